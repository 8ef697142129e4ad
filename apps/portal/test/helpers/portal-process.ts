// Starts the portal exactly as `npm start` does (src/server/main.ts: embedded PostgreSQL, migrations, Next and
// the worker) on a free port with its own data folder, and stops it (and anything left in its data folder).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "@platform/db/embedded-postgres";
import { waitFor } from "./database";

export const appDir = path.resolve(import.meta.dirname, "../..");

export interface PortalProcess {
  url: string;
  /** The start command's metrics listener (METRICS_PORT; a free port unless the test set one). */
  metricsUrl: string;
  dataDir: string;
  output: () => string;
  /** The start command's process (to kill it the hard way in tests). */
  pid: number;
  exited: Promise<unknown>;
  stop(): Promise<void>;
}

export async function startPortal(env: Record<string, string> = {}): Promise<PortalProcess> {
  if (!existsSync(path.join(appDir, ".next", "BUILD_ID"))) {
    throw new Error(
      "the portal is not built: run `npm run build -w @platform/portal` (npm test does it through turbo)",
    );
  }
  const dataDir = env.DATA_DIR ?? mkdtempSync(path.join(tmpdir(), "portal-e2e-"));
  mkdirSync(dataDir, { recursive: true });
  const port = Number(env.PORT) || (await freePort());
  const metricsPort = env.METRICS_PORT ?? String(await freePort());
  let out = "";
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "src/server/main.ts"], {
    cwd: appDir,
    env: {
      ...process.env,
      PORT: String(port),
      DATA_DIR: dataDir,
      DATABASE_URL: "",
      ...env,
      METRICS_PORT: metricsPort,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    out += d;
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    killProcessesUnder(dataDir);
    if (!env.DATA_DIR) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    // A worker-only process has no web server: it is ready when its worker has started.
    const workerOnly = env.PORTAL_ROLE === "worker";
    await waitFor(
      workerOnly ? "the worker to start" : "the portal to answer /api/health",
      async () => {
        if (child.exitCode !== null) throw new Error(`portal exited (${child.exitCode}):\n${out}`);
        if (workerOnly) return out.includes('"msg":"portal started"');
        return (await fetch(`${url}/api/health`).catch(() => null))?.ok;
      },
      90_000,
      250,
    );
  } catch (e) {
    await stop();
    throw e;
  }
  const exited = child.exitCode !== null ? Promise.resolve() : new Promise((r) => child.once("exit", r));
  return {
    url,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    dataDir,
    output: () => out,
    pid: child.pid ?? 0,
    exited,
    stop,
  };
}

/** Last resort after a failed test: ends processes (environment replicas, PostgreSQL) living in `dir`. */
export function killProcessesUnder(dir: string): void {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      let cwd = "";
      try {
        cwd = readlinkSync(`/proc/${entry}/cwd`);
      } catch {}
      if (cmd.includes(dir) || cwd.startsWith(dir)) process.kill(Number(entry), "SIGKILL");
    } catch {
      // gone already
    }
  }
}
