import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type LocalPostgres, startEmbeddedPostgres } from "@platform/db/embedded-postgres";
import pg from "pg";

export interface TestPostgres {
  pg: LocalPostgres;
  /** A DIY-backend URL on a fresh database. */
  backendUrl(database: string): Promise<string>;
  query<T extends pg.QueryResultRow>(database: string, sql: string, params?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

/** A real PostgreSQL for the Pulumi state, in a temp folder, on a free port. */
export async function startTestPostgres(): Promise<TestPostgres> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "infra-test-pg-"));
  const server = await startEmbeddedPostgres({ dataDir: path.join(dir, "data") });
  return {
    pg: server,
    async backendUrl(database) {
      const url = await server.database(database);
      return `${url}?sslmode=disable&table=pulumi_state`;
    },
    async query(database, sql, params) {
      const client = new pg.Client({ connectionString: await server.database(database) });
      await client.connect();
      try {
        return (await client.query(sql, params)).rows;
      } finally {
        await client.end();
      }
    },
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
