import { gunzipSync } from "node:zlib";
import { Pool } from "pg";
import {
  type CheckpointSummary,
  type StackLock,
  type StateStore,
  stackNames,
  summarizeCheckpoint,
} from "./types";

/**
 * The CLI's DIY postgres backend keeps blobs in one table: `key TEXT PRIMARY KEY, data JSON` where data is
 * `{"data": "<base64>"}`; keys are `<db>/.pulumi/stacks/<project>/<stack>.json` and
 * `<db>/.pulumi/locks/<org>/<project>/<stack>/<lock id>.json`.
 */
export function postgresStore(backendUrl: string): StateStore {
  const url = new URL(backendUrl);
  const table = url.searchParams.get("table") ?? "pulumi_state";
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) throw new Error(`unsupported state table name: ${table}`);
  const sslmode = url.searchParams.get("sslmode");
  // node-postgres reads only a few query parameters; pass the essentials explicitly.
  const pool = new Pool({
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.slice(1)),
    ssl: sslmode && sslmode !== "disable" ? { rejectUnauthorized: sslmode === "verify-full" } : undefined,
    max: 2,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 1000,
    allowExitOnIdle: true,
  });

  // An idle connection dropped by the server (restart, failover) must not crash the process: the next
  // query opens a new one, and a real outage surfaces there as backend-unreachable.
  pool.on("error", () => {});

  const tableExists = async () =>
    (await pool.query<{ t: string | null }>("SELECT to_regclass($1)::text AS t", [table])).rows[0]?.t != null;
  const decode = (data: { data?: string } | null): Buffer => Buffer.from(data?.data ?? "", "base64");
  const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

  return {
    async ping() {
      await pool.query("SELECT 1");
    },
    async listLocks(project, stack) {
      if (!(await tableExists())) return [];
      const { rows } = await pool.query<{ key: string; data: { data?: string } }>(
        `SELECT key, data FROM ${table} WHERE key LIKE $1`,
        [`%/.pulumi/locks/%/${escapeLike(project)}/${escapeLike(stack)}/%.json`],
      );
      return rows.map((r): StackLock => {
        const lock = JSON.parse(decode(r.data).toString("utf8"));
        return {
          key: r.key,
          pid: lock.pid,
          username: lock.username,
          hostname: lock.hostname,
          timestamp: lock.timestamp,
        };
      });
    },
    async deleteLock(key) {
      await pool.query(`DELETE FROM ${table} WHERE key = $1`, [key]);
    },
    async readCheckpoint(project, stack): Promise<CheckpointSummary | undefined> {
      if (!(await tableExists())) return undefined;
      const { rows } = await pool.query<{ key: string; data: { data?: string } }>(
        `SELECT key, data FROM ${table} WHERE key LIKE $1 OR key LIKE $2`,
        [
          `%/.pulumi/stacks/${escapeLike(project)}/${escapeLike(stack)}.json`,
          `%/.pulumi/stacks/${escapeLike(project)}/${escapeLike(stack)}.json.gz`,
        ],
      );
      const row = rows[0];
      if (!row) return undefined;
      const bytes = decode(row.data);
      return summarizeCheckpoint((row.key.endsWith(".gz") ? gunzipSync(bytes) : bytes).toString("utf8"));
    },
    async listStacks(project) {
      if (!(await tableExists())) return [];
      const { rows } = await pool.query<{ key: string }>(`SELECT key FROM ${table} WHERE key LIKE $1`, [
        `%/.pulumi/stacks/${escapeLike(project)}/%`,
      ]);
      return stackNames(rows.map((r) => r.key));
    },
    async close() {
      await pool.end();
    },
  };
}
