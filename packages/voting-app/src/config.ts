import { existsSync } from "node:fs";
import os from "node:os";
import { z } from "zod";

/**
 * Runtime configuration. The app reads it only from environment variables (12-factor), validated once at
 * start so a bad deployment fails loudly and immediately instead of misbehaving later.
 */
export interface AppConfig {
  port: number;
  host: string;
  title: string;
  options: string[];
  /** Shown on the page as "served by" so load balancing is visible. */
  replicaName: string;
  logLevel: LogLevel;
  redis: RedisConfig;
  /** PostgreSQL for the durable vote record; absent: Redis is the only store (votes live in memory there). */
  database?: DatabaseConfig;
  /** Whether "reset all votes" (the form and DELETE /api/votes) is offered; off unless ALLOW_RESET=true. */
  allowReset: boolean;
}

export interface RedisEndpoint {
  host: string;
  port: number;
}

export interface RedisConfig {
  primary: RedisEndpoint;
  /** Optional read replica; tallies are read here when set, otherwise from the primary. */
  read?: RedisEndpoint;
  password?: string;
  tls: boolean;
  /** PEM file with the CA(s) that sign Redis's certificate; default: Node's built-in public CAs. */
  tlsCaFile?: string;
  /** Hash that holds the counts, one field per option. */
  key: string;
}

export const DATABASE_SSL_MODES = ["disable", "require", "verify-full"] as const;
export type DatabaseSslMode = (typeof DATABASE_SSL_MODES)[number];

export interface DatabaseConfig {
  /** node-postgres connection settings. */
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
  /** disable: plain TCP; require: TLS without checking the server's certificate; verify-full: TLS, checked. */
  ssl: DatabaseSslMode;
  /** PEM file with the CA(s) for verify-full (e.g. Amazon RDS's bundle); default: Node's built-in public CAs. */
  sslCaFile?: string;
  /** Votes wait in memory at most this long before they are written (one batch per interval). */
  flushIntervalMs: number;
  /** Most votes written in one transaction. */
  batchMax: number;
  /** Most acknowledged votes waiting for the database (e.g. during an outage); more are refused with 503. */
  backlogMax: number;
}

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const MAX_OPTIONS = 12;
export const MAX_OPTION_LENGTH = 40;

const port = (name: string, fallback: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `${name} must be a whole number between 0 and 65535`)
    .transform(Number)
    .refine((n) => n >= 0 && n <= 65535, `${name} must be a whole number between 0 and 65535`)
    .optional()
    .transform((v) => v ?? fallback);

const boolean = (name: string) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .refine(
      (v) => ["", "true", "false", "1", "0", "yes", "no"].includes(v),
      `${name} must be true or false (or 1/0, yes/no)`,
    )
    .transform((v) => ["true", "1", "yes"].includes(v))
    .optional()
    .transform((v) => v ?? false);

// Control characters would break the page and log lines; commas are the list separator.
const OPTION_PATTERN = /^[^\p{Cc},]+$/u;

const voteOptions = z
  .string()
  .optional()
  .transform((raw) => (raw ?? "Cats,Dogs").split(",").map((o) => o.trim()))
  .superRefine((options, ctx) => {
    if (options.some((o) => o.length === 0)) {
      ctx.addIssue({
        code: "custom",
        message: "VOTE_OPTIONS must not contain empty options (e.g. 'Cats,,Dogs')",
      });
      return;
    }
    if (options.length < 2 || options.length > MAX_OPTIONS) {
      ctx.addIssue({
        code: "custom",
        message: `VOTE_OPTIONS must list between 2 and ${MAX_OPTIONS} options`,
      });
    }
    for (const o of options) {
      if (o.length > MAX_OPTION_LENGTH) {
        ctx.addIssue({
          code: "custom",
          message: `option "${o}" is longer than ${MAX_OPTION_LENGTH} characters`,
        });
      }
      if (!OPTION_PATTERN.test(o)) {
        ctx.addIssue({ code: "custom", message: `option ${JSON.stringify(o)} contains control characters` });
      }
    }
    const seen = new Set<string>();
    for (const o of options) {
      const k = o.toLowerCase();
      if (seen.has(k)) ctx.addIssue({ code: "custom", message: `option "${o}" is listed twice` });
      seen.add(k);
    }
  });

const hostname = (name: string) =>
  z
    .string()
    .trim()
    .min(1, `${name} must not be empty`)
    .max(253, `${name} is too long`)
    .regex(/^[A-Za-z0-9._:-]+$/, `${name} must be a host name or IP address`);

const integer = (name: string, fallback: number, min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `${name} must be a whole number between ${min} and ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `${name} must be a whole number between ${min} and ${max}`)
    .optional()
    .transform((v) => v ?? fallback);

const readableFile = (name: string) =>
  z
    .string()
    .refine((f) => existsSync(f), `${name}: no such file`)
    .optional();

/** postgres://user:password@host:port/database (postgresql:// too); the query string is not used. */
const databaseUrl = z
  .string()
  .trim()
  .transform((raw, ctx) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      ctx.addIssue({
        code: "custom",
        message: "DATABASE_URL must be postgres://user:password@host:port/database",
      });
      return z.NEVER;
    }
    if (!["postgres:", "postgresql:"].includes(url.protocol) || !url.hostname || url.pathname.length < 2) {
      ctx.addIssue({
        code: "custom",
        message: "DATABASE_URL must be postgres://user:password@host:port/database",
      });
      return z.NEVER;
    }
    return {
      host: url.hostname.replace(/^\[|\]$/g, ""),
      port: url.port ? Number(url.port) : 5432,
      database: decodeURIComponent(url.pathname.slice(1)),
      user: decodeURIComponent(url.username),
      password: url.password ? decodeURIComponent(url.password) : undefined,
    };
  })
  .optional();

/** One schema for the whole environment contract. Keys are the variable names, so errors name them. */
export const EnvSchema = z
  .object({
    PORT: port("PORT", 8080),
    HOST: hostname("HOST").optional().default("0.0.0.0"),
    APP_TITLE: z.string().trim().min(1, "APP_TITLE must not be empty").max(100).optional(),
    VOTE_OPTIONS: voteOptions,
    REPLICA_NAME: z.string().trim().min(1, "REPLICA_NAME must not be empty").max(100).optional(),
    LOG_LEVEL: z
      .enum(LOG_LEVELS, { error: `LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}` })
      .default("info"),
    REDIS_HOST: hostname("REDIS_HOST").optional().default("127.0.0.1"),
    REDIS_PORT: port("REDIS_PORT", 6379).refine((p) => p > 0, "REDIS_PORT must be between 1 and 65535"),
    REDIS_PASSWORD: z.string().optional(),
    REDIS_TLS: boolean("REDIS_TLS"),
    REDIS_TLS_CA_FILE: readableFile("REDIS_TLS_CA_FILE"),
    ALLOW_RESET: boolean("ALLOW_RESET"),
    REDIS_READ_HOST: hostname("REDIS_READ_HOST").optional(),
    REDIS_READ_PORT: port("REDIS_READ_PORT", 0).refine(
      (p) => p >= 0,
      "REDIS_READ_PORT must be between 1 and 65535",
    ),
    REDIS_KEY: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .regex(/^[\w:.{}-]+$/, "REDIS_KEY may contain letters, digits and _ : . { } - only")
      .default("voting-app:votes"),
    DATABASE_URL: databaseUrl,
    DATABASE_HOST: hostname("DATABASE_HOST").optional(),
    DATABASE_PORT: port("DATABASE_PORT", 5432).refine(
      (p) => p > 0,
      "DATABASE_PORT must be between 1 and 65535",
    ),
    DATABASE_NAME: z.string().trim().min(1).max(63).optional(),
    DATABASE_USER: z.string().trim().min(1).max(63).optional(),
    DATABASE_PASSWORD: z.string().optional(),
    DATABASE_SSL: z
      .enum(DATABASE_SSL_MODES, { error: `DATABASE_SSL must be one of ${DATABASE_SSL_MODES.join(", ")}` })
      .default("disable"),
    DATABASE_SSL_CA_FILE: readableFile("DATABASE_SSL_CA_FILE"),
    DATABASE_FLUSH_INTERVAL_MS: integer("DATABASE_FLUSH_INTERVAL_MS", 50, 5, 10_000),
    DATABASE_BATCH_MAX: integer("DATABASE_BATCH_MAX", 2000, 1, 10_000),
    DATABASE_BACKLOG_MAX: integer("DATABASE_BACKLOG_MAX", 100_000, 10, 10_000_000),
  })
  .superRefine((env, ctx) => {
    if (env.DATABASE_URL && env.DATABASE_HOST) {
      ctx.addIssue({
        code: "custom",
        path: ["DATABASE_HOST"],
        message: "DATABASE_HOST and DATABASE_URL are both set; give one of them",
      });
    }
    if (env.DATABASE_HOST && !env.DATABASE_USER) {
      ctx.addIssue({
        code: "custom",
        path: ["DATABASE_USER"],
        message: "DATABASE_USER is required with DATABASE_HOST",
      });
    }
    if (env.DATABASE_URL && !env.DATABASE_URL.user) {
      ctx.addIssue({ code: "custom", path: ["DATABASE_URL"], message: "DATABASE_URL must name the user" });
    }
    if (env.DATABASE_SSL_CA_FILE && env.DATABASE_SSL !== "verify-full") {
      ctx.addIssue({
        code: "custom",
        path: ["DATABASE_SSL_CA_FILE"],
        message: "DATABASE_SSL_CA_FILE applies only with DATABASE_SSL=verify-full",
      });
    }
    if (env.REDIS_TLS_CA_FILE && !env.REDIS_TLS) {
      ctx.addIssue({
        code: "custom",
        path: ["REDIS_TLS_CA_FILE"],
        message: "REDIS_TLS_CA_FILE applies only with REDIS_TLS=true",
      });
    }
    if (env.REDIS_READ_PORT !== 0 && !env.REDIS_READ_HOST) {
      ctx.addIssue({
        code: "custom",
        path: ["REDIS_READ_PORT"],
        message: "REDIS_READ_PORT is set but REDIS_READ_HOST is not",
      });
    }
  });

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Empty strings count as "not set", as they do in most deployment tools. */
function withoutEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== "") out[k] = v;
  return out;
}

/** Parses the environment into an AppConfig; throws ConfigError listing every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = EnvSchema.safeParse(withoutEmpty(env));
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const key = i.path.join(".");
        return i.message.startsWith(key) ? i.message : `${key}: ${i.message}`;
      }),
    );
  }
  const e = parsed.data;
  const options = e.VOTE_OPTIONS;
  return {
    port: e.PORT,
    host: e.HOST,
    title: e.APP_TITLE ?? `${options.slice(0, -1).join(", ")} or ${options.at(-1)}?`,
    options,
    replicaName: e.REPLICA_NAME ?? os.hostname(),
    logLevel: e.LOG_LEVEL,
    allowReset: e.ALLOW_RESET,
    redis: {
      primary: { host: e.REDIS_HOST, port: e.REDIS_PORT },
      read: e.REDIS_READ_HOST
        ? { host: e.REDIS_READ_HOST, port: e.REDIS_READ_PORT || e.REDIS_PORT }
        : undefined,
      password: e.REDIS_PASSWORD,
      tls: e.REDIS_TLS,
      tlsCaFile: e.REDIS_TLS_CA_FILE,
      key: e.REDIS_KEY,
    },
    database: databaseConfig(e),
  };
}

function databaseConfig(e: z.output<typeof EnvSchema>): DatabaseConfig | undefined {
  const target =
    e.DATABASE_URL ?? (e.DATABASE_HOST ? { host: e.DATABASE_HOST, port: e.DATABASE_PORT } : undefined);
  if (!target) return undefined;
  const fromUrl = e.DATABASE_URL;
  return {
    host: target.host,
    port: target.port,
    database: fromUrl?.database ?? e.DATABASE_NAME ?? "postgres",
    user: fromUrl?.user ?? e.DATABASE_USER ?? "postgres",
    // A separate DATABASE_PASSWORD wins: on ECS it arrives as a secret, apart from the rest of the settings.
    password: e.DATABASE_PASSWORD ?? fromUrl?.password,
    ssl: e.DATABASE_SSL,
    sslCaFile: e.DATABASE_SSL_CA_FILE,
    flushIntervalMs: e.DATABASE_FLUSH_INTERVAL_MS,
    batchMax: e.DATABASE_BATCH_MAX,
    backlogMax: e.DATABASE_BACKLOG_MAX,
  };
}
