#!/usr/bin/env node
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startRedisServer } from "./redis-server.js";

/**
 * Runs the app against a redis-server it starts itself (one command for a fresh machine). When
 * REDIS_HOST is set the caller brings their own Redis and only the app is started.
 * Ctrl-C / SIGTERM stops both.
 */
async function main(): Promise<void> {
  const env = { ...process.env };
  const redis = env.REDIS_HOST
    ? undefined
    : await startRedisServer({ port: env.REDIS_PORT ? Number(env.REDIS_PORT) : undefined });
  if (redis) {
    env.REDIS_HOST = redis.host;
    env.REDIS_PORT = String(redis.port);
    process.stderr.write(`run-local: redis-server listening on ${redis.host}:${redis.port}\n`);
  }
  const main = fileURLToPath(new URL("../main.js", import.meta.url));
  const app = spawn(process.execPath, [main], { env, stdio: "inherit" });
  const forward = (signal: NodeJS.Signals) => app.kill(signal);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  app.on("exit", async (code, signal) => {
    await redis?.stop();
    process.exit(code ?? (signal ? 0 : 1));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`run-local: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
