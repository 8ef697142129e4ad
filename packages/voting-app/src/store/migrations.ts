import type { PoolClient } from "pg";

/**
 * The app's own tables, in schema `voting_app`, created and upgraded by the app at start (every replica tries;
 * a transaction-scoped advisory lock lets one at a time through, and PostgreSQL's DDL is transactional, so a
 * replica that dies halfway leaves nothing behind).
 *
 * - `votes`: every vote, one row, written in batches. (writer, seq) identifies a vote: `writer` is a random id
 *   per app process, `seq` counts up in it. A batch retried after an unclear failure therefore inserts each
 *   vote at most once.
 * - `vote_totals`: the live count per option since the last reset, updated in the same transaction as `votes`.
 *   It is what a rebuild of the Redis tally reads (a few rows, however many votes there are).
 * - `tally_epochs`: every (re)build of the Redis tally and every reset, in order. The id of the latest is also
 *   stored in the Redis hash; see vote-log.ts for how it keeps a rebuild exact while replicas keep voting.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const SCHEMA = "voting_app";

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: "votes, totals and tally epochs",
    sql: `
      CREATE TABLE ${SCHEMA}.votes (
        writer   uuid        NOT NULL,
        seq      bigint      NOT NULL,
        option   text        NOT NULL,
        epoch    bigint      NOT NULL,
        voted_at timestamptz NOT NULL,
        PRIMARY KEY (writer, seq)
      );
      -- Rows arrive in time order, so a BRIN index serves time-range queries at almost no write cost.
      CREATE INDEX votes_voted_at ON ${SCHEMA}.votes USING brin (voted_at);
      CREATE TABLE ${SCHEMA}.vote_totals (
        option text   PRIMARY KEY,
        votes  bigint NOT NULL CHECK (votes >= 0)
      );
      CREATE TABLE ${SCHEMA}.tally_epochs (
        id           bigserial   PRIMARY KEY,
        kind         text        NOT NULL CHECK (kind IN ('rebuild', 'reset', 'adopt')),
        reason       text        NOT NULL,
        redis_run_id text,
        created_at   timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX tally_epochs_resets ON ${SCHEMA}.tally_epochs (id) WHERE kind = 'reset';
    `,
  },
];

/** Any constant works; it only has to be the same in every replica. */
const MIGRATION_LOCK = 0x766f7465; // "vote"

export interface MigrationResult {
  applied: number[];
  /** The database has migrations this build does not know (a newer app ran against it). */
  newerThanApp: boolean;
}

export async function migrate(client: PoolClient): Promise<MigrationResult> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${SCHEMA}.migrations (
         version    integer     PRIMARY KEY,
         name       text        NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${SCHEMA}.migrations`);
    const done = new Set(rows.map((r) => r.version));
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query(`INSERT INTO ${SCHEMA}.migrations (version, name) VALUES ($1, $2)`, [
        m.version,
        m.name,
      ]);
      applied.push(m.version);
    }
    await client.query("COMMIT");
    const latest = Math.max(...MIGRATIONS.map((m) => m.version));
    return { applied, newerThanApp: rows.some((r) => r.version > latest) };
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  }
}
