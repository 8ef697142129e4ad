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
  /** Hash that holds the counts, one field per option. */
  key: string;
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
  })
  .superRefine((env, ctx) => {
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
      key: e.REDIS_KEY,
    },
  };
}
