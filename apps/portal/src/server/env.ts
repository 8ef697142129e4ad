// The portal's configuration, read from environment variables and validated once. Every variable is
// documented in apps/portal/README.md.
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import type { Limits } from "../shared/environment-schemas";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");

const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);
const list = z
  .string()
  .default("")
  .transform((s) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean),
  );

/** This machine's name as a host identity: what HOST_ID accepts (letters, digits, `.`, `_`, `-`). */
export function defaultHostId(): string {
  const cleaned = os
    .hostname()
    .replace(/[^A-Za-z0-9._-]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "");
  return cleaned.slice(0, 63) || "localhost";
}

const configSchema = z
  .object({
    PORT: int(3000, 0),
    // Not HOSTNAME: shells and containers set that to the machine name.
    LISTEN_HOST: z.string().default("127.0.0.1"),
    DATABASE_URL: z
      .string()
      .refine((u) => /^postgres(ql)?:\/\//.test(u), "DATABASE_URL must be a postgres:// URL")
      .optional(),
    DATA_DIR: z.string().default(path.join(repoRoot, ".data")),
    PORTAL_ROLE: z.enum(["all", "web", "worker"]).default("all"),
    WORKER_CONCURRENCY: int(4, 1),
    WORKER_NICE: z.coerce.number().int().min(0).max(19).default(10),
    AUTH_USER_HEADER: z
      .string()
      .default("x-forwarded-email")
      .transform((s) => s.toLowerCase()),
    LOCAL_USER: z.string().min(1).default("dev@localhost"),
    FRONTEND_REPLICAS_MIN: int(1, 1),
    FRONTEND_REPLICAS_MAX: int(10, 1),
    FRONTEND_REPLICAS_DEFAULT: int(2, 1),
    REDIS_REPLICAS_MIN: int(1, 1),
    REDIS_REPLICAS_MAX: int(5, 1),
    REDIS_REPLICAS_DEFAULT: int(1, 1),
    MAX_TTL_HOURS: int(24 * 14, 1),
    AWS_REGIONS: list,
    AWS_ACCESS_KEY_ID: z.string().optional(),
    AWS_PROFILE: z.string().optional(),
    PULUMI_CONFIG_PASSPHRASE: z.string().min(1).optional(),
    PULUMI_STATE_TABLE: z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/)
      .default("pulumi_state"),
    HEARTBEAT_SECONDS: int(5, 1),
    STALE_AFTER_SECONDS: int(30, 2),
    OPERATION_TIMEOUT_MINUTES: int(120, 1),
    EVENTS_PER_OPERATION: int(2000, 50),
    EVENT_RETENTION_DAYS: int(14, 1),
    LIST_REFRESH_SECONDS: int(3, 1),
    SHUTDOWN_GRACE_SECONDS: int(20, 1),
    // Identity of the machine a worker runs on: a local environment belongs to the host that runs its processes.
    HOST_ID: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "letters, digits, '.', '_' or '-' (at most 63)")
      .default(defaultHostId),
    EVENT_STREAMS_MAX: int(500, 1),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    METRICS_HOST: z.string().min(1).default("127.0.0.1"),
    // 0 turns the metrics listener off.
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
    METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  })
  .superRefine((c, ctx) => {
    for (const tier of ["FRONTEND", "REDIS"] as const) {
      const min = c[`${tier}_REPLICAS_MIN`];
      const max = c[`${tier}_REPLICAS_MAX`];
      const def = c[`${tier}_REPLICAS_DEFAULT`];
      if (min > max)
        ctx.addIssue({ code: "custom", path: [`${tier}_REPLICAS_MIN`], message: "must be ≤ the max" });
      if (def < min || def > max)
        ctx.addIssue({
          code: "custom",
          path: [`${tier}_REPLICAS_DEFAULT`],
          message: "must lie within min..max",
        });
    }
    if (c.STALE_AFTER_SECONDS <= c.HEARTBEAT_SECONDS * 2) {
      ctx.addIssue({
        code: "custom",
        path: ["STALE_AFTER_SECONDS"],
        message: "must exceed 2 × HEARTBEAT_SECONDS",
      });
    }
  });

export type PortalConfig = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function parseConfig(source: Record<string, string | undefined>): PortalConfig {
  // An empty variable means "not set" (e.g. `DATABASE_URL= npm start`).
  const set = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = configSchema.safeParse(set);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid portal configuration:\n${lines.join("\n")}`);
  }
  return parsed.data;
}

let cached: PortalConfig | undefined;
/** The process's configuration, validated on first use. */
export function config(): PortalConfig {
  cached ??= parseConfig(process.env);
  return cached;
}

/**
 * Why a worker may not start with this configuration, or null. Workers that share a database (DATABASE_URL
 * set, possibly on several hosts) must share one secrets passphrase: a passphrase generated per data folder
 * would make every other host's stacks unreadable.
 */
export function workerConfigProblem(c: PortalConfig): string | null {
  if (c.DATABASE_URL && !c.PULUMI_CONFIG_PASSPHRASE) {
    const file = path.join(c.DATA_DIR, "pulumi-passphrase");
    return (
      "PULUMI_CONFIG_PASSPHRASE must be set when DATABASE_URL is set: every worker using that database must " +
      "decrypt the same stacks, so the passphrase cannot be generated per host." +
      ` (If this host generated one before, it is in ${file}: use that value on every host.)`
    );
  }
  return null;
}

export function requireDatabaseUrl(c: PortalConfig = config()): string {
  if (!c.DATABASE_URL) throw new ConfigError("DATABASE_URL is not set");
  return c.DATABASE_URL;
}

/** Whether the aws target can be offered: credentials present and regions listed. */
export function awsEnabled(c: PortalConfig): boolean {
  return Boolean(c.AWS_ACCESS_KEY_ID || c.AWS_PROFILE) && c.AWS_REGIONS.length > 0;
}

export function limitsFrom(c: PortalConfig): Limits {
  return {
    frontendReplicas: { min: c.FRONTEND_REPLICAS_MIN, max: c.FRONTEND_REPLICAS_MAX },
    redisReplicas: { min: c.REDIS_REPLICAS_MIN, max: c.REDIS_REPLICAS_MAX },
    awsRegions: awsEnabled(c) ? c.AWS_REGIONS : [],
    maxTtlHours: c.MAX_TTL_HOURS,
  };
}
