// The web process's quotas and rate limiters, from configuration.
import type { Quotas } from "../features/environments/commands";
import { config, type PortalConfig, requireDatabaseUrl } from "./env";
import { postgresRateLimiter, type RateLimiter, rateLimitPool } from "./rate-limit";

export function quotasFrom(c: PortalConfig): Quotas {
  return {
    environmentsPerPerson: c.QUOTA_ENVIRONMENTS_PER_PERSON,
    environmentsPerTeam: c.QUOTA_ENVIRONMENTS_PER_TEAM,
    environmentsTotal: c.QUOTA_ENVIRONMENTS_TOTAL,
    replicasPerEnvironment: c.QUOTA_REPLICAS_PER_ENVIRONMENT,
    maxTtlHours: c.MAX_TTL_HOURS,
  };
}

const holder = globalThis as unknown as { __portalLimiters?: { actions: RateLimiter; streams: RateLimiter } };

/** Per-identity limits on actions and on opening event streams, shared by all web processes. */
export function rateLimiters(): { actions: RateLimiter; streams: RateLimiter } {
  if (!holder.__portalLimiters) {
    const c = config();
    const pool = rateLimitPool(requireDatabaseUrl(c));
    holder.__portalLimiters = {
      actions: postgresRateLimiter(pool, "actions", c.RATE_LIMIT_ACTIONS_PER_MINUTE),
      streams: postgresRateLimiter(pool, "streams", c.RATE_LIMIT_STREAMS_PER_MINUTE),
    };
  }
  return holder.__portalLimiters;
}
