import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type RunningApp, startApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { freePort } from "../../src/dev/redis-server.js";

export const MAIN_JS = fileURLToPath(new URL("../../dist/main.js", import.meta.url));

/**
 * Starts the app in this process on a free loopback port, logs off; env as the real process gets it.
 * Waits until /readyz says Redis is connected unless `waitReady` is false.
 */
export async function startTestApp(env: Record<string, string>, waitReady = true): Promise<RunningApp> {
  const config = loadConfig({ PORT: "0", HOST: "127.0.0.1", ...env });
  const app = await startApp(config, { logger: false });
  if (waitReady && !(await eventually(async () => (await fetch(`${app.url}/readyz`)).ok))) {
    await app.close();
    throw new Error("app did not become ready");
  }
  return app;
}

export interface AppProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after 5 s; resolves when gone. */
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

/** Spawns `node dist/main.js` (the real entry point) and waits until /healthz answers. */
export async function spawnApp(env: Record<string, string>): Promise<AppProcess> {
  const port = await freePort();
  const proc = spawnMain({ PORT: String(port), HOST: "127.0.0.1", ...env });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.child.exitCode !== null) {
      throw new Error(`app exited with ${proc.child.exitCode}: ${proc.stderr()}`);
    }
    const up = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`app did not start: ${proc.stderr()}`);
    }
    await sleep(50);
  }
  return { ...proc, url };
}

/** Spawns `node dist/main.js` with exactly `env` (plus PATH), without waiting for anything. */
export function spawnMain(env: Record<string, string>): Omit<AppProcess, "url"> {
  const child = spawn(process.execPath, [MAIN_JS], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  };
  return { child, stdout: () => out, stderr: () => err, exited, stop };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true or the timeout passes; returns whether it became true. */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs = 10_000,
  everyMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await sleep(everyMs);
  }
  return false;
}

export async function vote(url: string, option: string): Promise<Response> {
  return fetch(`${url}/api/votes`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ option }),
  });
}

export interface Results {
  options: { name: string; count: number }[];
  total: number;
  servedBy: string;
}

export async function results(url: string): Promise<Results> {
  const res = await fetch(`${url}/api/results`);
  if (!res.ok) throw new Error(`GET /api/results: ${res.status}`);
  return (await res.json()) as Results;
}

/** Counts as a plain object, e.g. { Cats: 2, Dogs: 0 }. */
export async function counts(url: string): Promise<Record<string, number>> {
  const r = await results(url);
  return Object.fromEntries(r.options.map((o) => [o.name, o.count]));
}
