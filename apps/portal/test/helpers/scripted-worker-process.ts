// Starts test/fixtures/scripted-worker.ts as a separate process and stops it (also when a test fails).
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { waitFor } from "./database";

export interface ScriptJson {
  /** null: runs never finish by themselves. */
  durationMs: number | null;
  logLines?: number;
  failFor?: string[];
  holdFor?: string[];
}

export interface ScriptedWorkerProcess {
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

export const writeScript = (file: string, script: ScriptJson) => writeFileSync(file, JSON.stringify(script));

export async function startScriptedWorker(env: {
  DATABASE_URL: string;
  WORKER_ID: string;
  SCRIPT_FILE: string;
  STACK_LOCKS?: "1";
  HOST_ID?: string;
  /** Operations it runs at once (default 1). */
  WORKER_CONCURRENCY?: string;
  /** Its clock runs this many milliseconds ahead (negative: behind). */
  CLOCK_SKEW_MS?: string;
  OPERATION_TIMEOUT_SECONDS?: string;
  REAP_EVERY_SECONDS?: string;
}): Promise<ScriptedWorkerProcess> {
  const child = spawn(
    process.execPath,
    [
      "--require",
      path.join(import.meta.dirname, "../fixtures/clock-skew.cjs"),
      "--import",
      "tsx",
      path.join(import.meta.dirname, "../fixtures/scripted-worker.ts"),
    ],
    { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  try {
    await waitFor(
      `worker ${env.WORKER_ID} to be ready`,
      async () => {
        if (child.exitCode !== null) throw new Error(`worker ${env.WORKER_ID} exited (${child.exitCode})`);
        return out.includes("ready");
      },
      30_000,
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return { child, output: () => out, stop };
}
