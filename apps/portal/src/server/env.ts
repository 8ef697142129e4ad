// The portal's configuration, read from environment variables and validated once. Every variable is
// documented in apps/portal/README.md.
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
