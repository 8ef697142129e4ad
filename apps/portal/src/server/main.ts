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
import { secretFile } from "./auth/secret-file";
import { checkWebRole, ensureLoginRole, grantWebRole, withCredentials } from "./db-roles";
import { ConfigError, config as loadConfig, type PortalConfig } from "./env";
import { startQueue } from "./queue";
import { DriftMonitor } from "./worker/drift";
import { createRealOperations } from "./worker/operations";
import { RepairRecorder } from "./worker/repairs";
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

/** The embedded PostgreSQL's superuser password: generated once per data folder (mode 0600). */
const embeddedPassword = (config: PortalConfig) =>
  secretFile(path.join(config.DATA_DIR, "postgres-password"));
/** The web process's role on the embedded PostgreSQL. */
const EMBEDDED_WEB_ROLE = "portal_web";

async function startDatabase(config: PortalConfig): Promise<{ url: string; embedded?: LocalPostgres }> {
  if (config.DATABASE_URL) return { url: config.DATABASE_URL };
  const pgDir = path.join(config.DATA_DIR, "postgres");
  mkdirSync(config.DATA_DIR, { recursive: true });
  const password = embeddedPassword(config);
  const orphan = runningPostmaster(pgDir);
  if (orphan) {
    // Reuse it rather than fail on its lock file; stop it with ours.
    log(`reusing the embedded PostgreSQL left running (pid ${orphan.pid}, port ${orphan.port})`);
    const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${orphan.port}/portal`;
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
  const embedded = await startEmbeddedPostgres({
    dataDir: pgDir,
    password,
    // Data folders made before passwords were generated used this one.
    legacyPasswords: ["postgres"],
    onLog: (line) => process.env.PORTAL_DEBUG && console.log(`[postgres] ${line.trimEnd()}`),
  });
  const url = await embedded.database("portal");
  log(`embedded PostgreSQL on port ${embedded.port} (data in ${path.join(config.DATA_DIR, "postgres")})`);
  return { url, embedded };
}

/**
 * The web process's database URL: a role that cannot read or write the Pulumi state table. Embedded PostgreSQL:
 * the start command creates it (password generated once per data folder). Operator PostgreSQL: WEB_DATABASE_URL
 * (see README "Database roles"); without it only AUTH_MODE=dev may share DATABASE_URL's role, with a warning.
 */
async function webDatabaseUrl(
  config: PortalConfig,
  ownerUrl: string | undefined,
  embedded: boolean,
): Promise<string> {
  if (!ownerUrl) return config.WEB_DATABASE_URL as string; // a web-only process given only its own role
  const stateTable = config.PULUMI_STATE_TABLE;
  // The queue's schema is made by the owner, so the web role needs no CREATE right.
  const setup = await startQueue(ownerUrl, { role: "sender" });
  await setup.stop({ graceful: false, wait: true }).catch(() => {});
  let webUrl = config.WEB_DATABASE_URL;
  if (embedded) {
    const password = secretFile(path.join(config.DATA_DIR, "postgres-web-password"));
    await ensureLoginRole(ownerUrl, EMBEDDED_WEB_ROLE, password);
    webUrl = withCredentials(ownerUrl, EMBEDDED_WEB_ROLE, password);
  }
  if (!webUrl) {
    if (config.AUTH_MODE !== "dev") {
      throw new ConfigError(
        "WEB_DATABASE_URL is not set: with AUTH_MODE=" +
          config.AUTH_MODE +
          " the web process must connect as a role that cannot read the Pulumi state table (README: Database roles)",
      );
    }
    log(
      "warning: WEB_DATABASE_URL is not set; the web process uses DATABASE_URL's role, which can read the Pulumi state",
    );
    return ownerUrl;
  }
  const role = decodeURIComponent(new URL(webUrl).username);
  await grantWebRole(ownerUrl, role, stateTable);
  const check = await checkWebRole(ownerUrl, webUrl, stateTable);
  if (check.problem)
    throw new ConfigError(`WEB_DATABASE_URL: ${check.problem}; the web role must not reach ${stateTable}`);
  return webUrl;
}

/** The web process's environment: no owner database URL, no Pulumi passphrase, no cloud secrets. */
function webEnvironment(webUrl: string, config: PortalConfig): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: webUrl,
    DATA_DIR: config.DATA_DIR,
    NEXT_TELEMETRY_DISABLED: "1",
  };
  for (const secret of [
    "PULUMI_CONFIG_PASSPHRASE",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "WEB_DATABASE_URL",
  ])
    delete env[secret];
  return env;
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
      env: webEnvironment(databaseUrl, config),
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
  // A web-only process may be given only its own restricted role (WEB_DATABASE_URL): then it migrates nothing.
  const webOnlyRole = config.PORTAL_ROLE === "web" && !config.DATABASE_URL && !!config.WEB_DATABASE_URL;
  const { url, embedded } = webOnlyRole
    ? { url: config.WEB_DATABASE_URL as string, embedded: undefined }
    : await startDatabase(config);
  if (!webOnlyRole) {
    const migrated = await applyMigrations(url);
    if (migrated.applied.length) log(`applied migrations: ${migrated.applied.join(", ")}`);
  }

  let web: ChildProcess | undefined;
  let worker: OperationWorker | undefined;
  let drift: DriftMonitor | undefined;
  let repairs: RepairRecorder | undefined;
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
    await Promise.all([drift?.stop(), repairs?.stop()]);
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
    let webUrl: string;
    try {
      webUrl = await webDatabaseUrl(
        config,
        webOnlyRole ? undefined : url,
        !!embedded && !config.DATABASE_URL,
      );
    } catch (e) {
      console.error(`[portal] ${e instanceof Error ? e.message : e}`);
      await stop("the web database role is not usable", 2);
      return;
    }
    web = startWeb(config, webUrl);
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
    // Drift checks and the supervisors' repairs: beside the operations, one environment at a time.
    drift = new DriftMonitor({
      db,
      ops,
      localSeconds: config.DRIFT_CHECK_LOCAL_SECONDS,
      awsSeconds: config.DRIFT_CHECK_AWS_SECONDS,
      workerId: worker.id,
    });
    repairs = new RepairRecorder({ db, ops, scanSeconds: config.REPAIR_SCAN_SECONDS });
    drift.start();
    repairs.start();
  }
}

main().catch((e) => {
  console.error(`[portal] failed to start: ${e instanceof Error ? (e.stack ?? e.message) : e}`);
  process.exit(1);
});
