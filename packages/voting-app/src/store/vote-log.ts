import type { PoolClient } from "pg";
import { SCHEMA } from "./migrations.js";

/**
 * The PostgreSQL side of the durable vote record. Every function takes a client inside a transaction the
 * caller opened; the lock each one needs is what makes a rebuild of the Redis tally exact:
 *
 * - A batch write takes ROW EXCLUSIVE on `vote_totals`; a rebuild or reset takes SHARE ROW EXCLUSIVE, which
 *   conflicts with it and with itself. So each batch commits either before a rebuild reads the totals (and
 *   is in them) or after the rebuild committed (and is not).
 * - The rebuild writes the new tally into Redis while it holds the lock, before its own commit. A batch
 *   that was blocked by it therefore sees the new epoch once it runs, and every vote it writes that was
 *   counted in Redis under an older epoch is missing from the rebuilt tally: the writer adds exactly those,
 *   and only if Redis is still at that epoch (a later rebuild has them from the database).
 * - A reset starts a new round: votes counted before it (epoch older than the reset) are kept as history
 *   but no longer counted in `vote_totals`.
 */
export interface PendingVote {
  seq: number;
  option: string;
  /** The tally epoch under which Redis counted this vote. */
  epoch: number;
  /** Milliseconds since the Unix epoch. */
  at: number;
}

export interface Epochs {
  /** Latest tally epoch (0: none yet). */
  current: number;
  /** Latest reset (0: none). */
  lastReset: number;
}

export async function readEpochs(client: PoolClient): Promise<Epochs> {
  const { rows } = await client.query<{ current: string; last_reset: string }>(
    `SELECT coalesce(max(id), 0) AS current, coalesce(max(id) FILTER (WHERE kind = 'reset'), 0) AS last_reset
       FROM ${SCHEMA}.tally_epochs`,
  );
  return { current: Number(rows[0]?.current ?? 0), lastReset: Number(rows[0]?.last_reset ?? 0) };
}

export async function lockForWrite(client: PoolClient): Promise<void> {
  await client.query(`LOCK TABLE ${SCHEMA}.vote_totals IN ROW EXCLUSIVE MODE`);
}

export async function lockForRebuild(client: PoolClient): Promise<void> {
  // A rebuild waits for batches in flight; it must not queue forever behind a stuck one.
  await client.query("SET LOCAL lock_timeout = '5s'");
  await client.query(`LOCK TABLE ${SCHEMA}.vote_totals IN SHARE ROW EXCLUSIVE MODE`);
}

/**
 * Inserts a batch (each vote at most once: (writer, seq) is the key) and adds the inserted votes of the
 * current round to `vote_totals`. Returns how many inserted votes of the current round were counted in Redis
 * under each epoch, by option.
 */
export async function writeBatch(
  client: PoolClient,
  writer: string,
  batch: readonly PendingVote[],
  lastReset: number,
): Promise<{ option: string; epoch: number; votes: number }[]> {
  const { rows } = await client.query<{ option: string; epoch: string; votes: string }>(
    `WITH inserted AS (
       INSERT INTO ${SCHEMA}.votes (writer, seq, option, epoch, voted_at)
       SELECT $1::uuid, v.seq, v.option, v.epoch, to_timestamp(v.at / 1000.0)
         FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::float8[]) AS v(seq, option, epoch, at)
       ON CONFLICT (writer, seq) DO NOTHING
       RETURNING option, epoch
     ), counted AS (
       SELECT option, epoch, count(*) AS votes FROM inserted WHERE epoch >= $6 GROUP BY option, epoch
     ), totals AS (
       INSERT INTO ${SCHEMA}.vote_totals (option, votes)
       SELECT option, sum(votes) FROM counted GROUP BY option
       ON CONFLICT (option) DO UPDATE SET votes = ${SCHEMA}.vote_totals.votes + excluded.votes
     )
     SELECT option, epoch, votes FROM counted`,
    [
      writer,
      batch.map((v) => v.seq),
      batch.map((v) => v.option),
      batch.map((v) => v.epoch),
      batch.map((v) => v.at),
      lastReset,
    ],
  );
  return rows.map((r) => ({ option: r.option, epoch: Number(r.epoch), votes: Number(r.votes) }));
}

export async function readTotals(client: PoolClient): Promise<Map<string, number>> {
  const { rows } = await client.query<{ option: string; votes: string }>(
    `SELECT option, votes FROM ${SCHEMA}.vote_totals`,
  );
  return new Map(rows.map((r) => [r.option, Number(r.votes)]));
}

/** Replaces the totals (adopting the counts of a Redis tally that predates the database). */
export async function replaceTotals(client: PoolClient, totals: Map<string, number>): Promise<void> {
  await client.query(`DELETE FROM ${SCHEMA}.vote_totals`);
  if (totals.size === 0) return;
  await client.query(
    `INSERT INTO ${SCHEMA}.vote_totals (option, votes) SELECT * FROM unnest($1::text[], $2::bigint[])`,
    [[...totals.keys()], [...totals.values()]],
  );
}

export async function newEpoch(
  client: PoolClient,
  kind: "rebuild" | "reset" | "adopt",
  reason: string,
  redisRunId: string,
): Promise<number> {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO ${SCHEMA}.tally_epochs (kind, reason, redis_run_id) VALUES ($1, $2, $3) RETURNING id`,
    [kind, reason, redisRunId],
  );
  return Number(rows[0]?.id);
}
