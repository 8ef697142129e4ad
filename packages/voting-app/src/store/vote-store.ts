import type { Redis } from "ioredis";
import type { AppConfig } from "../config.js";
import {
  BacklogFullError,
  type DatabaseHealth,
  type DurableEvents,
  DurableVotes,
  TallyUnavailableError,
} from "./durable-votes.js";
import { type ConnectionEvents, createRedisClient, lastConnectionError } from "./redis-clients.js";
import { EPOCH_FIELD } from "./redis-tally.js";

export { BacklogFullError, type DatabaseHealth, type DurableEvents, TallyUnavailableError };

export interface OptionCount {
  name: string;
  count: number;
}

export interface Tally {
  options: OptionCount[];
  total: number;
}

export interface StoreHealth {
  ok: boolean;
  checks: {
    primary?: { ok: boolean; error?: string };
    replica?: { ok: boolean; error?: string };
    /** Durable mode only. Does not decide readiness: votes still count while the database is away. */
    database?: DatabaseHealth;
  };
}

/** Raised when Redis cannot be reached or does not answer in time; routes turn it into 503. */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`vote store unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "StoreUnavailableError";
  }
}

const PING_TIMEOUT_MS = 500;
/** How long a graceful close keeps writing the backlog to an unreachable database (main.ts allows 8 s in all). */
export const CLOSE_FLUSH_MS = 6000;

/**
 * The tally lives in one Redis hash (field per option). Counting is HINCRBY, which Redis applies atomically,
 * so any number of app replicas can vote concurrently without losing updates; the app never reads a count to
 * write it back. With a database configured (durable mode, see durable-votes.ts) every vote is also recorded
 * in PostgreSQL, and the hash is rebuilt from there when Redis loses it.
 */
export class VoteStore {
  readonly primary: Redis;
  readonly reader: Redis;
  /** Durable mode only. */
  readonly durable: DurableVotes | undefined;
  private readonly key: string;
  private readonly options: readonly string[];
  /** HMGET arguments: the options, plus the tally's epoch field in durable mode (read first). */
  private readonly readFields: string[];

  constructor(
    config: Pick<AppConfig, "redis" | "options" | "database" | "replicaName">,
    events: ConnectionEvents,
    durableEvents?: DurableEvents,
  ) {
    this.key = config.redis.key;
    this.options = config.options;
    const onReady = (role: string) => {
      events.onReady(role);
      if (role === "primary") this.durable?.primaryConnected();
    };
    const connection = { onReady, onDown: events.onDown };
    this.primary = createRedisClient(config.redis.primary, config.redis, "primary", connection);
    this.reader = config.redis.read
      ? createRedisClient(config.redis.read, config.redis, "replica", connection)
      : this.primary;
    if (config.database) {
      if (!durableEvents) throw new Error("durable mode needs its events");
      this.durable = new DurableVotes(
        config.database,
        this.key,
        this.primary,
        durableEvents,
        `voting-app ${config.replicaName}`,
      );
      this.durable.start();
    }
    this.readFields = this.durable ? [EPOCH_FIELD, ...this.options] : [...this.options];
  }

  /** Adds one vote; returns the option's new count. The caller has validated `option`. */
  async vote(option: string): Promise<number> {
    try {
      return this.durable ? await this.durable.vote(option) : await this.primary.hincrby(this.key, option, 1);
    } catch (err) {
      if (err instanceof BacklogFullError) throw err;
      throw new StoreUnavailableError(err);
    }
  }

  /** Reads every configured option's count from the read endpoint (replica when configured). */
  async tally(): Promise<Tally> {
    let raw: (string | null)[];
    try {
      raw = await this.readCounts();
      if (this.durable && raw[0] === null) {
        // No tally the database knows (Redis restarted empty): rebuild it, then read it from the primary.
        await this.durable.tallyReady("the tally is missing from Redis");
        raw = await this.primary.hmget(this.key, ...this.readFields);
      }
    } catch (err) {
      throw new StoreUnavailableError(err);
    }
    const offset = this.durable ? 1 : 0;
    let total = 0;
    const options = this.options.map((name, i) => {
      const count = Number(raw[i + offset] ?? 0);
      total += count;
      return { name, count };
    });
    return { options, total };
  }

  /**
   * Reads from the replica; falls back to the primary while the replica is down, so losing a replica
   * degrades read scaling instead of taking the tally (and every web replica's readiness) down with it.
   */
  private async readCounts(): Promise<(string | null)[]> {
    if (this.reader !== this.primary) {
      if (this.reader.status === "ready") {
        try {
          return await this.reader.hmget(this.key, ...this.readFields);
        } catch {
          // replica slow or just lost: answer from the primary below
        }
      }
    }
    return this.primary.hmget(this.key, ...this.readFields);
  }

  /** Clears every count (one DEL, so it is atomic too; in durable mode also a new round in the database). */
  async reset(): Promise<void> {
    try {
      if (this.durable) await this.durable.reset();
      else await this.primary.del(this.key);
    } catch (err) {
      throw new StoreUnavailableError(err);
    }
  }

  /**
   * PINGs the primary and, when configured, the replica, each within a short timeout. Ready means the
   * primary answers (votes need it); a failing replica is reported but tallies fall back to the primary.
   */
  async health(): Promise<StoreHealth> {
    const targets: [string, Redis][] = [["primary", this.primary]];
    if (this.reader !== this.primary) targets.push(["replica", this.reader]);
    const results = await Promise.all(
      targets.map(async ([role, client]) => [role, await ping(client)] as const),
    );
    const checks: StoreHealth["checks"] = Object.fromEntries(results);
    if (this.durable) checks.database = this.durable.health();
    return { ok: checks.primary?.ok === true, checks };
  }

  /**
   * Closes the store. In durable mode the backlog is written first, until `deadline` (ms since the epoch);
   * Redis stays open meanwhile (votes counted under an older epoch may need adding to the tally).
   */
  async close(deadline = Date.now() + CLOSE_FLUSH_MS): Promise<void> {
    await this.durable?.close(deadline);
    const clients = this.reader === this.primary ? [this.primary] : [this.primary, this.reader];
    await Promise.all(clients.map((c) => quit(c)));
  }
}

async function ping(client: Redis): Promise<{ ok: boolean; error?: string }> {
  if (client.status !== "ready") {
    // Not connected: the reason is the last connection error (refused, WRONGPASS, a certificate problem).
    const reason = lastConnectionError(client)?.message;
    return { ok: false, error: reason ? `${client.status}: ${reason}` : `connection ${client.status}` };
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no PONG within ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS);
    });
    const reply = await Promise.race([client.ping(), timeout]);
    return reply === "PONG" ? { ok: true } : { ok: false, error: `unexpected reply ${reply}` };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

/** QUIT when connected (lets Redis finish replies); otherwise just drop the socket and stop reconnecting. */
async function quit(client: Redis): Promise<void> {
  if (client.status === "ready") {
    try {
      await client.quit();
      return;
    } catch {
      // fall through to disconnect
    }
  }
  client.disconnect(false);
}
