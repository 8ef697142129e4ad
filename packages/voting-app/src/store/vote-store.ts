import type { Redis } from "ioredis";
import type { AppConfig } from "../config.js";
import { type ConnectionEvents, createRedisClient } from "./redis-clients.js";

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
  checks: Record<string, { ok: boolean; error?: string }>;
}

/** Raised when Redis cannot be reached or does not answer in time; routes turn it into 503. */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`vote store unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "StoreUnavailableError";
  }
}

const PING_TIMEOUT_MS = 500;

/**
 * All vote state lives in one Redis hash (field per option). Counting is HINCRBY, which Redis applies
 * atomically, so any number of app replicas can vote concurrently without losing updates; the app never
 * reads a count to write it back.
 */
export class VoteStore {
  readonly primary: Redis;
  readonly reader: Redis;
  private readonly key: string;
  private readonly options: readonly string[];

  constructor(config: Pick<AppConfig, "redis" | "options">, events: ConnectionEvents) {
    this.key = config.redis.key;
    this.options = config.options;
    this.primary = createRedisClient(config.redis.primary, config.redis, "primary", events);
    this.reader = config.redis.read
      ? createRedisClient(config.redis.read, config.redis, "replica", events)
      : this.primary;
  }

  /** Adds one vote; returns the option's new count. The caller has validated `option`. */
  async vote(option: string): Promise<number> {
    try {
      return await this.primary.hincrby(this.key, option, 1);
    } catch (err) {
      throw new StoreUnavailableError(err);
    }
  }

  /** Reads every configured option's count from the read endpoint (replica when configured). */
  async tally(): Promise<Tally> {
    let raw: (string | null)[];
    try {
      raw = await this.readCounts();
    } catch (err) {
      throw new StoreUnavailableError(err);
    }
    let total = 0;
    const options = this.options.map((name, i) => {
      const count = Number(raw[i] ?? 0);
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
          return await this.reader.hmget(this.key, ...this.options);
        } catch {
          // replica slow or just lost: answer from the primary below
        }
      }
    }
    return this.primary.hmget(this.key, ...this.options);
  }

  /** Clears every count (one DEL, so it is atomic too). */
  async reset(): Promise<void> {
    try {
      await this.primary.del(this.key);
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
    const checks = Object.fromEntries(results);
    return { ok: checks.primary?.ok === true, checks };
  }

  async close(): Promise<void> {
    const clients = this.reader === this.primary ? [this.primary] : [this.primary, this.reader];
    await Promise.all(clients.map((c) => quit(c)));
  }
}

async function ping(client: Redis): Promise<{ ok: boolean; error?: string }> {
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
