// The portal's one start command. Without DATABASE_URL it starts an embedded PostgreSQL in the data folder;
// then it applies the migrations and runs the web server (`next start`), the worker, or both (PORTAL_ROLE).
// Several web and worker processes can share one database. SIGINT/SIGTERM stop everything gracefully.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { setPriority } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { applyMigrations, createDbClient, type LocalPostgres, startEmbeddedPostgres } from "@platform/db";
import type PgBoss from "pg-boss";
import { ConfigError, config as loadConfig, type PortalConfig } from "./env";
import { startQueue } from "./queue";
import { createRealOperations } from "./worker/operations";
import { OperationWorker } from "./worker/worker";

const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const log = (line: string) => console.log(`[portal] ${line}`);

/** A PostgreSQL still running in `dataDir` (its start command was killed): its pid and port. */
function runningPostmaster(dataDir: string): { pid: number; port: number } | null {
  const file = path.join(dataDir, "postmaster.pid");
  if (!existsSync(file)) return null;
  const [pid, , , port] = readFileSync(file, "utf8").split("\n");
  try {
    process.kill(Number(pid), 0);
    return { pid: Number(pid), port: Number(port) };
  } catch {
    return null; // stale file: PostgreSQL removes it when it starts
  }
}

async function startDatabase(config: PortalConfig): Promise<{ url: string; embedded?: LocalPostgres }> {
  if (config.DATABASE_URL) return { url: config.DATABASE_URL };
  const pgDir = path.join(config.DATA_DIR, "postgres");
  const orphan = runningPostmaster(pgDir);
  if (orphan) {
    // Reuse it rather than fail on its lock file; stop it with ours.
    log(`reusing the embedded PostgreSQL left running (pid ${orphan.pid}, port ${orphan.port})`);
    const url = `postgres://postgres:postgres@127.0.0.1:${orphan.port}/portal`;
    return {
      url,
      embedded: {
        url,
        port: orphan.port,
        database: async () => url,
        stop: async () => {
          process.kill(orphan.pid, "SIGINT"); // fast shutdown
          for (let i = 0; i < 50 && runningPostmaster(pgDir); i++)
            await new Promise((r) => setTimeout(r, 100));
        },
      },
    };
  }
  mkdirSync(config.DATA_DIR, { recursive: true });
  const embedded = await startEmbeddedPostgres({
    dataDir: pgDir,
    onLog: (line) => process.env.PORTAL_DEBUG && console.log(`[postgres] ${line.trimEnd()}`),
  });
  const url = await embedded.database("portal");
  log(`embedded PostgreSQL on port ${embedded.port} (data in ${path.join(config.DATA_DIR, "postgres")})`);
  return { url, embedded };
}

function startWeb(config: PortalConfig, databaseUrl: string): ChildProcess {
  const nextBin = createRequire(import.meta.url).resolve("next/dist/bin/next");
  const watchdog = path.join(appDir, "src/server/parent-watchdog.cjs");
  const child = spawn(
    process.execPath,
    [
      "--require",
      watchdog,
      nextBin,
      "start",
      "--port",
      String(config.PORT),
      "--hostname",
      config.LISTEN_HOST,
    ],
    {
      cwd: appDir,
      stdio: "inherit",
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        DATA_DIR: config.DATA_DIR,
        NEXT_TELEMETRY_DISABLED: "1",
      },
    },
  );
  log(`web on http://${config.LISTEN_HOST}:${config.PORT}`);
  return child;
}

async function main(): Promise<void> {
  let config: PortalConfig;
  try {
    config = loadConfig();
  } catch (e) {
    console.error(e instanceof ConfigError ? e.message : e);
    process.exit(2);
  }
  if (config.PORTAL_ROLE !== "worker" && !existsSync(path.join(appDir, ".next", "BUILD_ID"))) {
    console.error(
      "[portal] the web app is not built: run `npm run build` (or `npm run build -w @platform/portal`) first",
    );
    process.exit(2);
  }
  const { url, embedded } = await startDatabase(config);
  const migrated = await applyMigrations(url);
  if (migrated.applied.length) log(`applied migrations: ${migrated.applied.join(", ")}`);

  let web: ChildProcess | undefined;
  let worker: OperationWorker | undefined;
  let boss: PgBoss | undefined;
  const db = createDbClient(url, { poolSize: config.WORKER_CONCURRENCY + 4 });
  let stopping = false;

  const stop = async (reason: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    log(`stopping (${reason})`);
    const webExited =
      web && web.exitCode === null ? new Promise((r) => web?.once("exit", r)) : Promise.resolve();
    web?.kill("SIGTERM");
    await worker?.stop(config.SHUTDOWN_GRACE_SECONDS * 1000);
    // Connections closing during shutdown are expected; do not report them as queue errors.
    boss?.removeAllListeners("error");
    boss?.on("error", () => {});
    await boss?.stop({ graceful: true, wait: true, timeout: 5000 }).catch(() => {});
    await db.$disconnect().catch(() => {});
    await Promise.race([webExited, new Promise((r) => setTimeout(r, 5000))]);
    await embedded?.stop().catch(() => {});
    process.exit(code);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));

  if (config.PORTAL_ROLE !== "worker") {
    web = startWeb(config, url);
    web.on("exit", (code) => void stop(`web exited with ${code}`, code ?? 1));
  }
  if (config.PORTAL_ROLE !== "web") {
    // Operations are background work (Pulumi, and on the local target the environments' own processes, all
    // children of this process): a lower CPU priority keeps the web pages fast while they run.
    if (config.WORKER_NICE > 0) {
      try {
        setPriority(process.pid, config.WORKER_NICE);
      } catch (e) {
        log(`could not lower the worker's priority: ${e}`);
      }
    }
    boss = await startQueue(url, { role: "worker", expireInSeconds: config.OPERATION_TIMEOUT_MINUTES * 60 });
    const ops = await createRealOperations(config, url);
    worker = new OperationWorker({
      db,
      boss,
      ops,
      concurrency: config.WORKER_CONCURRENCY,
      heartbeatSeconds: config.HEARTBEAT_SECONDS,
      staleAfterSeconds: config.STALE_AFTER_SECONDS,
      eventsPerOperation: config.EVENTS_PER_OPERATION,
      eventRetentionDays: config.EVENT_RETENTION_DAYS,
    });
    await worker.start();
  }
}

main().catch((e) => {
  console.error(`[portal] failed to start: ${e instanceof Error ? (e.stack ?? e.message) : e}`);
  process.exit(1);
});
