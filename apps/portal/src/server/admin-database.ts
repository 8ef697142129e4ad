// The portal's database for a command run from the server's shell (e.g. `npm run token:create`): DATABASE_URL
// when set; else the embedded PostgreSQL in DATA_DIR — the running one when the portal is up (its postmaster.pid
// names the port), or started just for the command (migrations applied) and stopped after it.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { applyMigrations, startEmbeddedPostgres } from "@platform/db";
import { secretFile } from "./auth/secret-file";
import type { PortalConfig } from "./env";

function runningPort(pgDir: string): number | null {
  const file = path.join(pgDir, "postmaster.pid");
  if (!existsSync(file)) return null;
  const [pid, , , port] = readFileSync(file, "utf8").split("\n");
  try {
    process.kill(Number(pid), 0);
    return Number(port);
  } catch {
    return null;
  }
}

export async function withPortalDatabase<T>(c: PortalConfig, run: (url: string) => Promise<T>): Promise<T> {
  if (c.DATABASE_URL) {
    await applyMigrations(c.DATABASE_URL);
    return await run(c.DATABASE_URL);
  }
  const pgDir = path.join(c.DATA_DIR, "postgres");
  mkdirSync(c.DATA_DIR, { recursive: true });
  const password = secretFile(path.join(c.DATA_DIR, "postgres-password"));
  const port = runningPort(pgDir);
  if (port) {
    return await run(`postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/portal`);
  }
  const embedded = await startEmbeddedPostgres({ dataDir: pgDir, password, legacyPasswords: ["postgres"] });
  try {
    const url = await embedded.database("portal");
    await applyMigrations(url);
    return await run(url);
  } finally {
    await embedded.stop().catch(() => {});
  }
}
