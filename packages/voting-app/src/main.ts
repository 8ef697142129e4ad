#!/usr/bin/env node
import { startApp } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";

/** Longest a graceful shutdown may take before the process gives up on stragglers. */
const SHUTDOWN_GRACE_MS = 8000;

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`voting-app: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }

  const app = await startApp(config);
  const log = app.server.log;
  log.info(
    {
      url: app.url,
      replica: config.replicaName,
      options: config.options,
      redis: config.redis.primary,
      read: config.redis.read,
    },
    "voting app listening",
  );

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down: draining in-flight requests");
    const force = setTimeout(() => {
      log.error("graceful shutdown timed out; exiting");
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    app.close().then(
      () => {
        log.info("shutdown complete");
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, "error during shutdown");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`voting-app: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
