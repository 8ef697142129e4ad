// Rate limits per identity: on commands (create, scale, destroy, ...) and on opening event streams. Counters
// live in PostgreSQL (rate-limiter-flexible's PostgreSQL store, table rate_limits made by a migration), so every
// web process of a portal shares them.
import pg from "pg";
import { RateLimiterPostgres, RateLimiterRes } from "rate-limiter-flexible";
import { webLogger } from "./logger";

export interface RateLimiter {
  /** Counts one request of `identity`; null when allowed, else the seconds until it would be. */
  consume(identity: string): Promise<number | null>;
  /** Requests allowed per minute (shown to people). */
  readonly perMinute: number;
}

export function postgresRateLimiter(pool: pg.Pool, name: string, perMinute: number): RateLimiter {
  const limiter = new RateLimiterPostgres({
    storeClient: pool,
    storeType: "pool",
    tableName: "rate_limits",
    tableCreated: true,
    keyPrefix: name,
    points: perMinute,
    duration: 60,
  });
  return {
    perMinute,
    async consume(identity) {
      try {
        await limiter.consume(identity);
        return null;
      } catch (e) {
        if (e instanceof RateLimiterRes) return Math.max(1, Math.ceil(e.msBeforeNext / 1000));
        throw e;
      }
    },
  };
}

/** A small pool for the counters (one per process). */
export function rateLimitPool(databaseUrl: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2, idleTimeoutMillis: 30_000 });
  pool.on("error", (e) => webLogger().warn({ err: e }, "rate-limit pool connection failed"));
  return pool;
}
