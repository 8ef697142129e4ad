import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";
import pg from "pg";
import type { DatabaseConfig } from "../config.js";
import { migrate } from "./migrations.js";
import { EPOCH_FIELD, RUN_ID_FIELD, redisRunId, tallyCommands } from "./redis-tally.js";
import {
  lockForRebuild,
  lockForWrite,
  newEpoch,
  type PendingVote,
  readEpochs,
  readTotals,
  replaceTotals,
  writeBatch,
} from "./vote-log.js";

/**
 * Durable mode (a database is configured): every vote is counted in Redis, the fast tally, and recorded in
 * PostgreSQL by a background writer. This is an outbox in the app's memory:
 *
 *   vote ─▶ Redis HINCRBY (atomic, with the tally's epoch) ─▶ appended to the backlog ─▶ 201
 *                                         every DATABASE_FLUSH_INTERVAL_MS: backlog ─▶ one INSERT batch
 *
 * What a 201 guarantees: the vote is in the Redis tally and in this process's backlog, and it reaches
 * PostgreSQL within one flush interval while the database is up (later, in order, once it is back). It is
 * lost only if this process dies without a graceful stop (SIGKILL, out of memory, a crash) before its batch
 * is written, or stops gracefully while the database stays unreachable for the whole shutdown grace period.
 * A vote never waits for the database.
 *
 * The Redis tally is rebuilt from `vote_totals` when Redis has no tally (restarted empty), when its server is
 * not the one that the tally was built on (restarted with persistence, or failed over: the last writes may be
 * missing), or after a database write whose outcome is unknown. See vote-log.ts for why a rebuild is exact while
 * other replicas keep voting and flushing.
 */
export interface DurableEvents {
  /** The database answered (true) or failed (false), with the error. Called on every change. */
  onDatabase(up: boolean, error?: string): void;
  onWrite(votes: number, seconds: number): void;
  onRebuild(kind: "rebuild" | "reset" | "adopt", reason: string, epoch: number): void;
  log: {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
    error(obj: object, msg: string): void;
  };
}

export interface DatabaseHealth {
  ok: boolean;
  /** Acknowledged votes not yet written to the database. */
  backlog: number;
  backlogMax: number;
  lastWriteAt?: string;
  error?: string;
}

/** Raised when the backlog is full (the database has been unreachable for a while); the vote is not counted. */
export class BacklogFullError extends Error {
  constructor(readonly backlog: number) {
    super(`${backlog} votes are waiting for the database; no more are taken until it is back`);
    this.name = "BacklogFullError";
  }
}

/** The tally cannot be served or counted into: it is missing from Redis and the database cannot rebuild it. */
export class TallyUnavailableError extends Error {
  constructor(cause: unknown) {
    super(
      `the tally is missing from Redis and cannot be rebuilt from the database: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.name = "TallyUnavailableError";
  }
}

const HEARTBEAT_MS = 5000;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5000;
/** A vote or a tally read waits at most this long for a rebuild of a missing tally. */
const REBUILD_WAIT_MS = 3000;

export class DurableVotes {
  private readonly pool: pg.Pool;
  private readonly redis: ReturnType<typeof tallyCommands>;
  /** Identifies this process's votes in the database: (writer, seq) is each vote's key. */
  private readonly writer = randomUUID();
  private seq = 0;
  private backlog: PendingVote[] = [];
  private migrated: Promise<void> | undefined;
  private rebuilding: Promise<void> | undefined;
  /** Set when the tally must be checked (and rebuilt if stale) by the background loop; `force` rebuilds anyway. */
  private tallyCheck: { reason: string; force: boolean } | undefined;
  private up: boolean | undefined;
  private lastError: string | undefined;
  private lastWriteAt: Date | undefined;
  private lastContact = 0;
  private retryMs = RETRY_MIN_MS;
  private stopped = false;
  private wake: (() => void) | undefined;
  private loopDone: Promise<void> | undefined;

  constructor(
    private readonly config: DatabaseConfig,
    private readonly key: string,
    primary: Redis,
    private readonly events: DurableEvents,
    applicationName = "voting-app",
  ) {
    this.redis = tallyCommands(primary);
    this.pool = new pg.Pool({
      host: config.host,
      port: config.port,
      database: config.database,
      user: config.user,
      password: config.password,
      ssl: sslOptions(config),
      application_name: applicationName.slice(0, 63),
      // The writer, a rebuild and a reset at most at once.
      max: 3,
      connectionTimeoutMillis: 2000,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      statement_timeout: 10_000,
      query_timeout: 12_000,
    });
    // An idle client that loses its server emits here; without a listener that would end the process.
    this.pool.on("error", (err) => this.markDown(err));
  }

  /** Starts the background writer; it also applies the app's migrations as soon as the database answers. */
  start(): void {
    this.loopDone = this.loop();
  }

  get backlogSize(): number {
    return this.backlog.length;
  }

  /** Counts a vote in Redis and queues it for the database; returns the option's new count. */
  async vote(option: string): Promise<number> {
    if (this.backlog.length >= this.config.backlogMax) throw new BacklogFullError(this.backlog.length);
    let counted = await this.redis.voteInEpoch(this.key, option, EPOCH_FIELD);
    if (counted === null) {
      await this.tallyReady("the tally is missing from Redis");
      counted = await this.redis.voteInEpoch(this.key, option, EPOCH_FIELD);
      if (counted === null) throw new TallyUnavailableError("it went missing again");
    }
    const [count, epoch] = counted;
    this.backlog.push({ seq: ++this.seq, option, epoch: Number(epoch), at: Date.now() });
    return count;
  }

  /**
   * Waits (bounded) until Redis holds a tally the database knows, rebuilding it if needed. Tally readers call
   * it when the hash they read has no epoch.
   */
  async tallyReady(reason: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no rebuild within ${REBUILD_WAIT_MS / 1000} s`)),
        REBUILD_WAIT_MS,
      );
    });
    try {
      await Promise.race([this.ensureTally(reason, false), timeout]);
    } catch (err) {
      throw new TallyUnavailableError(err);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The Redis primary (re)connected: maybe a new server. The loop checks the tally's epoch and run id. */
  primaryConnected(): void {
    this.requestTallyCheck("the Redis primary (re)connected", false);
  }

  /** Clears every count: a new round in the database and an empty tally in Redis, as one step. */
  async reset(): Promise<void> {
    await this.replaceTally("reset", "reset requested", true);
  }

  health(): DatabaseHealth {
    return {
      ok: this.up === true,
      backlog: this.backlog.length,
      backlogMax: this.config.backlogMax,
      lastWriteAt: this.lastWriteAt?.toISOString(),
      error: this.up === true ? undefined : (this.lastError ?? "not connected yet"),
    };
  }

  /**
   * Graceful stop: writes the whole backlog (retrying while the database fails) until `deadline`, then closes
   * the pool. Returns how many acknowledged votes could not be written.
   */
  async close(deadline: number): Promise<number> {
    this.stopped = true;
    this.wake?.();
    await this.loopDone;
    while (this.backlog.length > 0 && Date.now() < deadline) {
      try {
        await this.writeOnce();
      } catch (err) {
        this.markDown(err);
        await sleep(Math.min(RETRY_MIN_MS, Math.max(0, deadline - Date.now())));
      }
    }
    const lost = this.backlog.length;
    if (lost > 0) {
      this.events.log.error(
        { votes: lost },
        "stopping with acknowledged votes the database did not take; they are counted in Redis only",
      );
    }
    await this.pool.end().catch(() => {});
    return lost;
  }

  private requestTallyCheck(reason: string, force: boolean): void {
    if (!this.tallyCheck || (force && !this.tallyCheck.force)) this.tallyCheck = { reason, force };
    this.wake?.();
  }

  /** Works first (so migrations run at start), then sleeps one flush interval, or backs off after a failure. */
  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        if (this.tallyCheck) {
          const { reason, force } = this.tallyCheck;
          this.tallyCheck = undefined;
          try {
            await this.ensureTally(reason, force);
          } catch (err) {
            this.requestTallyCheck(reason, force); // again after the back-off below
            throw err;
          }
        }
        if (this.backlog.length > 0) await this.writeOnce();
        else if (Date.now() - this.lastContact > HEARTBEAT_MS) await this.heartbeat();
        this.retryMs = RETRY_MIN_MS;
      } catch (err) {
        this.markDown(err);
        this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
      }
      if (this.stopped) break;
      const full = this.backlog.length >= this.config.batchMax;
      // While the database fails, back off (a full backlog must not turn into a busy loop).
      await this.sleepUnlessWoken(this.up === false ? this.retryMs : full ? 0 : this.config.flushIntervalMs);
    }
  }

  private sleepUnlessWoken(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  /** One transaction with the oldest votes of the backlog (at most DATABASE_BATCH_MAX). */
  private async writeOnce(): Promise<void> {
    await this.ensureMigrated();
    const batch = this.backlog.slice(0, this.config.batchMax);
    const started = process.hrtime.bigint();
    const client = await this.pool.connect();
    let commitSent = false;
    let epochs: Awaited<ReturnType<typeof readEpochs>>;
    let written: Awaited<ReturnType<typeof writeBatch>>;
    try {
      await client.query("BEGIN");
      await lockForWrite(client);
      epochs = await readEpochs(client);
      written = await writeBatch(client, this.writer, batch, epochs.lastReset);
      commitSent = true;
      await client.query("COMMIT");
    } catch (err) {
      if (!commitSent) await client.query("ROLLBACK").catch(() => {});
      // The commit may have happened: the votes stay in the backlog (a retry inserts none twice), but whether
      // the tally needs them added is unknown. A forced rebuild settles it either way.
      else this.requestTallyCheck("a database write's outcome is unknown", true);
      client.release(true);
      throw err;
    }
    client.release();
    this.backlog.splice(0, batch.length);
    this.markUp();
    this.lastWriteAt = new Date();
    this.events.onWrite(batch.length, Number(process.hrtime.bigint() - started) / 1e9);

    // Votes Redis counted under an older epoch than the database's latest: a rebuild since then did not see
    // them (they were not in the database yet), so the tally lacks them. Add them, if Redis is still there.
    const missing = new Map<string, number>();
    for (const w of written) {
      if (w.epoch !== epochs.current) missing.set(w.option, (missing.get(w.option) ?? 0) + w.votes);
    }
    if (missing.size > 0) {
      const pairs = [...missing].flat();
      try {
        await this.redis.addInEpoch(this.key, EPOCH_FIELD, String(epochs.current), ...pairs);
      } catch {
        this.requestTallyCheck("votes counted before a rebuild could not be added to the tally", true);
      }
    }
  }

  private ensureMigrated(): Promise<void> {
    this.migrated ??= (async () => {
      const client = await this.pool.connect();
      try {
        const result = await migrate(client);
        if (result.applied.length > 0) {
          this.events.log.info({ migrations: result.applied }, "database migrations applied");
        }
        if (result.newerThanApp) {
          this.events.log.warn({}, "the database has migrations newer than this app; running anyway");
        }
      } finally {
        client.release();
      }
      this.markUp();
    })().catch((err: unknown) => {
      this.migrated = undefined;
      throw err;
    });
    return this.migrated;
  }

  private async heartbeat(): Promise<void> {
    await this.ensureMigrated();
    await this.pool.query("SELECT 1");
    this.markUp();
  }

  /** Rebuilds the tally if Redis lacks it or it is stale (or always, with `force`); one at a time per process. */
  private ensureTally(reason: string, force: boolean): Promise<void> {
    this.rebuilding ??= this.replaceTally("rebuild", reason, force).finally(() => {
      this.rebuilding = undefined;
    });
    return this.rebuilding;
  }

  private async replaceTally(kind: "rebuild" | "reset", reason: string, force: boolean): Promise<void> {
    await this.ensureMigrated();
    const redis = this.redis as unknown as Redis;
    const client = await this.pool.connect();
    let broken = false;
    let redisWritten = false;
    let done: { kind: "rebuild" | "reset" | "adopt"; epoch: number; totals: Map<string, number> } | undefined;
    try {
      await client.query("BEGIN");
      await lockForRebuild(client);
      const runId = await redisRunId(redis);
      const epochs = await readEpochs(client);
      const [epochNow, runIdNow] = await redis.hmget(this.key, EPOCH_FIELD, RUN_ID_FIELD);
      const fresh = epochNow !== null && Number(epochNow) === epochs.current && runIdNow === runId;
      if (kind === "rebuild" && fresh && !force) {
        // Up to date (another replica may have rebuilt it while this one waited for the lock).
        await client.query("ROLLBACK");
      } else {
        let epochKind: "rebuild" | "reset" | "adopt" = kind;
        if (kind === "reset") {
          await replaceTotals(client, new Map());
        } else if (epochs.current === 0) {
          // First use of this database: a tally already in Redis (an environment that had no database until
          // now) is adopted as the starting totals instead of being wiped.
          const existing = countsOf(await redis.hgetall(this.key));
          if (existing.size > 0) {
            await replaceTotals(client, existing);
            epochKind = "adopt";
          }
        }
        const totals = await readTotals(client);
        const epoch = await newEpoch(client, epochKind, reason, runId);
        redisWritten = true;
        await this.redis.replaceTally(
          this.key,
          EPOCH_FIELD,
          epoch,
          RUN_ID_FIELD,
          runId,
          ...[...totals].flat(),
        );
        await client.query("COMMIT");
        done = { kind: epochKind, epoch, totals };
      }
    } catch (err) {
      broken = true;
      await client.query("ROLLBACK").catch(() => {});
      if (redisWritten) {
        // Redis has an epoch the database may not have committed: remove it, so the next reader rebuilds.
        await redis.hdel(this.key, EPOCH_FIELD).catch(() => {});
      }
      throw err;
    } finally {
      client.release(broken);
    }
    this.markUp();
    if (done) {
      this.events.onRebuild(done.kind, reason, done.epoch);
      this.events.log.info(
        { kind: done.kind, reason, epoch: done.epoch, totals: Object.fromEntries(done.totals) },
        kind === "reset" ? "votes reset" : "tally rebuilt from the database",
      );
    }
  }

  private markUp(): void {
    this.lastContact = Date.now();
    if (this.up !== true) {
      this.up = true;
      this.lastError = undefined;
      this.events.onDatabase(true);
    }
  }

  private markDown(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.lastError = message;
    if (this.up !== false) {
      this.up = false;
      this.events.onDatabase(false, message);
    }
  }
}

function sslOptions(config: DatabaseConfig): pg.PoolConfig["ssl"] {
  switch (config.ssl) {
    case "disable":
      return false;
    case "require":
      return { rejectUnauthorized: false };
    case "verify-full":
      return {
        rejectUnauthorized: true,
        ca: config.sslCaFile ? readFileSync(config.sslCaFile, "utf8") : undefined,
      };
  }
}

/** Option counts of a Redis hash (bookkeeping fields left out). */
function countsOf(hash: Record<string, string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [field, value] of Object.entries(hash)) {
    const n = Number(value);
    if (!field.startsWith(",") && Number.isInteger(n) && n > 0) counts.set(field, n);
  }
  return counts;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
