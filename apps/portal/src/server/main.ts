// The portal's one start command. Without DATABASE_URL it starts an embedded PostgreSQL in the data folder;
// then it applies the migrations and runs the web server (`next start`), the worker, or both (PORTAL_ROLE),
// and serves the Prometheus metrics of both on METRICS_PORT. Several web and worker processes can share one
// database. SIGINT/SIGTERM stop everything gracefully, the embedded PostgreSQL included. Logs are JSON lines.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import { setPriority } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { applyMigrations, createDbClient } from "@platform/db";
import type PgBoss from "pg-boss";
import { WebhookDispatcher } from "../features/webhooks/dispatcher";
import { secretFile } from "./auth/secret-file";
import { checkWebRole, ensureLoginRole, grantWebRole, withCredentials } from "./db-roles";
import {
  ConfigError,
  config as loadConfig,
  type PortalConfig,
  webhookSettings,
  workerConfigProblem,
} from "./env";
import { createLogger, type Logger } from "./logger";
import { registerDriftMetrics } from "./metrics/drift-metrics";
import { registerFleetMetrics } from "./metrics/fleet-metrics";
import { INTERNAL_METRICS_TOKEN_VARIABLE } from "./metrics/metrics-auth";
import { startMetricsServer } from "./metrics/metrics-server";
import { type PortalDatabase, startPortalDatabase } from "./portal-database";
import { QUEUE_EXPIRY_MARGIN_SECONDS, startQueue } from "./queue";
import { DriftMonitor } from "./worker/drift";
import { createRealOperations } from "./worker/operations";
import { RepairRecorder } from "./worker/repairs";
import { TaskProtection } from "./worker/task-protection";
import { OperationWorker } from "./worker/worker";

const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The web process's role on the embedded PostgreSQL. */
const EMBEDDED_WEB_ROLE = "portal_web";

/**
 * The web process's database URL: a role that cannot read or write the Pulumi state table. Embedded PostgreSQL:
 * the start command creates it (password generated once per data folder). Operator PostgreSQL: WEB_DATABASE_URL
 * (see README "Database roles"); without it only AUTH_MODE=dev may share DATABASE_URL's role, with a warning.
 */
async function webDatabaseUrl(
  config: PortalConfig,
  ownerUrl: string | undefined,
  embedded: boolean,
  log: Logger,
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
    log.warn(
      "WEB_DATABASE_URL is not set; the web process uses DATABASE_URL's role, which can read the Pulumi state",
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

/** Creates (or re-passwords) the web role given in parts, with its grants, and checks it cannot reach the state. */
async function provisionWebRole(config: PortalConfig, ownerUrl: string, log: Logger): Promise<void> {
  const role = config.WEB_DATABASE_USER as string;
  await ensureLoginRole(ownerUrl, role, config.WEB_DATABASE_PASSWORD as string);
  await grantWebRole(ownerUrl, role, config.PULUMI_STATE_TABLE);
  const check = await checkWebRole(ownerUrl, config.WEB_DATABASE_URL as string, config.PULUMI_STATE_TABLE);
  if (check.problem) throw new ConfigError(`WEB_DATABASE_USER: ${check.problem}`);
  log.info({ role }, `web database role ${role} ready`);
}

/** The web process's environment: no owner database URL, no Pulumi passphrase, no cloud secrets. */
function webEnvironment(webUrl: string, config: PortalConfig, metricsToken: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: webUrl,
    DATA_DIR: config.DATA_DIR,
    NEXT_TELEMETRY_DISABLED: "1",
    [INTERNAL_METRICS_TOKEN_VARIABLE]: metricsToken,
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

function startWeb(
  config: PortalConfig,
  databaseUrl: string,
  metricsToken: string,
  log: Logger,
): ChildProcess {
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
      env: webEnvironment(databaseUrl, config, metricsToken),
    },
  );
  log.info({ url: `http://${config.LISTEN_HOST}:${config.PORT}` }, "web server starting");
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
  const log = createLogger({ role: "start", level: config.LOG_LEVEL, host: config.HOST_ID });
  const runsWorker = config.PORTAL_ROLE !== "web";
  const problem = runsWorker ? workerConfigProblem(config) : null;
  if (problem) {
    log.fatal(problem);
    console.error(`[portal] ${problem}`);
    process.exit(2);
  }
  if (config.PORTAL_ROLE !== "worker" && !existsSync(path.join(appDir, ".next", "BUILD_ID"))) {
    const message =
      "the web app is not built: run `npm run build` (or `npm run build -w @platform/portal`) first";
    log.fatal(message);
    console.error(`[portal] ${message}`);
    process.exit(2);
  }

  let database: PortalDatabase | undefined;
  let web: ChildProcess | undefined;
  let worker: OperationWorker | undefined;
  let webhooks: WebhookDispatcher | undefined;
  let drift: DriftMonitor | undefined;
  let repairs: RepairRecorder | undefined;
  let boss: PgBoss | undefined;
  let metricsServer: Server | undefined;
  let db: ReturnType<typeof createDbClient> | undefined;
  let stopping = false;

  const stop = async (reason: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, "stopping");
    const webExited =
      web && web.exitCode === null ? new Promise((r) => web?.once("exit", r)) : Promise.resolve();
    web?.kill("SIGTERM");
    await webhooks?.stop();
    await Promise.all([drift?.stop(), repairs?.stop()]);
    await worker?.stop(config.SHUTDOWN_GRACE_SECONDS * 1000);
    // Connections closing during shutdown are expected; do not report them as queue errors.
    boss?.removeAllListeners("error");
    boss?.on("error", () => {});
    await boss?.stop({ graceful: true, wait: true, timeout: 5000 }).catch(() => {});
    await db?.$disconnect().catch(() => {});
    await new Promise((r) => (metricsServer ? metricsServer.close(r) : r(undefined)));
    await Promise.race([webExited, new Promise((r) => setTimeout(r, 5000))]);
    await database?.stop().catch((e) => log.error({ err: e }, "could not stop the embedded PostgreSQL"));
    log.info("stopped");
    process.exit(code);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void stop(signal));

  try {
    // A web-only process may be given only its own restricted role (WEB_DATABASE_URL): then it migrates nothing.
    const webOnlyRole = config.PORTAL_ROLE === "web" && !config.DATABASE_URL && !!config.WEB_DATABASE_URL;
    database = webOnlyRole
      ? { url: config.WEB_DATABASE_URL as string, embedded: false, stop: async () => {} }
      : await startPortalDatabase(config, log);
    const url = database.url;
    if (!webOnlyRole) {
      const migrated = await applyMigrations(url);
      if (migrated.applied.length)
        log.info({ migrations: migrated.applied }, `applied migrations: ${migrated.applied.join(", ")}`);
    }
    db = createDbClient(url, { poolSize: config.WORKER_CONCURRENCY + 4 });

    const metricsToken = randomBytes(24).toString("base64url");
    if (config.PORTAL_ROLE !== "worker") {
      let webUrl: string;
      try {
        webUrl = await webDatabaseUrl(config, webOnlyRole ? undefined : url, database.embedded, log);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        log.fatal({ err: e }, message);
        console.error(`[portal] ${message}`);
        await stop("the web database role is not usable", 2);
        return;
      }
      web = startWeb(config, webUrl, metricsToken, log);
      web.on("exit", (code) => void stop(`web exited with ${code}`, code ?? 1));
    }
    registerFleetMetrics(db, config.STALE_AFTER_SECONDS, (e) =>
      log.warn({ err: e }, "fleet metrics read failed"),
    );
    if (config.METRICS_PORT > 0) {
      metricsServer = await startMetricsServer({
        host: config.METRICS_HOST,
        port: config.METRICS_PORT,
        token: config.METRICS_TOKEN,
        web: web ? { url: `http://127.0.0.1:${config.PORT}/api/metrics`, token: metricsToken } : undefined,
        logger: log,
      });
      log.info({ url: `http://${config.METRICS_HOST}:${config.METRICS_PORT}/metrics` }, "metrics listening");
    }
    if (runsWorker) {
      // Operations are background work (Pulumi, and on the local target the environments' own processes, all
      // children of this process): a lower CPU priority keeps the web pages fast while they run.
      if (config.WORKER_NICE > 0) {
        try {
          setPriority(process.pid, config.WORKER_NICE);
        } catch (e) {
          log.warn({ err: e }, "could not lower the worker's priority");
        }
      }
      // Its own logger, not a child: a child's `role` would repeat the key in every line's JSON.
      const workerLog = createLogger({ role: "worker", level: config.LOG_LEVEL, host: config.HOST_ID });
      const timeoutSeconds = config.OPERATION_TIMEOUT_MINUTES * 60;
      boss = await startQueue(url, {
        role: "worker",
        host: config.HOST_ID,
        expireInSeconds: timeoutSeconds + QUEUE_EXPIRY_MARGIN_SECONDS,
        onError: (e) => workerLog.warn({ err: e }, "queue error"),
      });
      if (config.PORTAL_ROLE === "worker" && config.WEB_DATABASE_USER && config.WEB_DATABASE_PASSWORD) {
        // Separate web processes (the portal on AWS) get their role's credentials in parts: the worker, which
        // holds the owner's, makes that role exist with that password and grants it what the web needs.
        await provisionWebRole(config, url, workerLog);
      }
      const ops = await createRealOperations(config, url);
      registerDriftMetrics();
      // On ECS: no scale-in stops this task while it runs operations (ECS sets ECS_AGENT_URI in every task).
      const protection = process.env.ECS_AGENT_URI
        ? new TaskProtection({ agentUri: process.env.ECS_AGENT_URI, log: (line) => workerLog.info(line) })
        : undefined;
      worker = new OperationWorker({
        onActiveChange: protection ? (n) => void protection.busy(n) : undefined,
        db,
        boss,
        ops: ops.environments,
        networks: ops.networks,
        databaseUrl: url,
        host: config.HOST_ID,
        concurrency: config.WORKER_CONCURRENCY,
        heartbeatSeconds: config.HEARTBEAT_SECONDS,
        staleAfterSeconds: config.STALE_AFTER_SECONDS,
        operationTimeoutSeconds: timeoutSeconds,
        eventsPerOperation: config.EVENTS_PER_OPERATION,
        eventRetentionDays: config.EVENT_RETENTION_DAYS,
        logger: workerLog,
      });
      await worker.start();
      // Webhook deliveries of finished operations (features/webhooks): any worker may send them.
      webhooks = new WebhookDispatcher(db, boss, {
        ...webhookSettings(config),
        log: (line) => workerLog.warn({ component: "webhooks" }, line),
      });
      await webhooks.start();
      // Drift checks and the supervisors' repairs: beside the operations, one environment at a time.
      drift = new DriftMonitor({
        db,
        ops: ops.environments,
        localSeconds: config.DRIFT_CHECK_LOCAL_SECONDS,
        awsSeconds: config.DRIFT_CHECK_AWS_SECONDS,
        workerId: worker.id,
        log: (line) => workerLog.info({ component: "drift" }, line),
      });
      repairs = new RepairRecorder({
        db,
        ops: ops.environments,
        scanSeconds: config.REPAIR_SCAN_SECONDS,
        log: (line) => workerLog.info({ component: "repairs" }, line),
      });
      drift.start();
      repairs.start();
    }
    log.info({ portalRole: config.PORTAL_ROLE }, "portal started");
  } catch (e) {
    log.fatal({ err: e }, "failed to start");
    console.error(`[portal] failed to start: ${e instanceof Error ? (e.stack ?? e.message) : e}`);
    await stop("start failed", 1);
  }
}

void main();
