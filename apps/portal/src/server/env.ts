// The portal's configuration, read from environment variables and validated once. Every variable is
// documented in apps/portal/README.md.
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { existingNetworkSchema } from "@platform/infra/spec";
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

const optionalUrl = (name: string) =>
  z
    .string()
    .refine((u) => URL.canParse(u) && /^https?:/.test(u), `${name} must be an http(s) URL`)
    .optional();

export const AUTH_MODES = ["dev", "oidc", "proxy-jwt"] as const;

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "::1", "localhost", "[::1]"]);
/** True when LISTEN_HOST accepts connections from this machine only. */
export const isLoopback = (host: string) => LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);

const configSchema = z
  .object({
    PORT: int(3000, 0),
    // Not HOSTNAME: shells and containers set that to the machine name.
    LISTEN_HOST: z.string().default("127.0.0.1"),
    DATABASE_URL: z
      .string()
      .refine((u) => /^postgres(ql)?:\/\//.test(u), "DATABASE_URL must be a postgres:// URL")
      .optional(),
    /**
     * The database in parts, when no DATABASE_URL is given (e.g. credentials injected one by one from a secret
     * store, as the portal on AWS does): the URL is built from them, with the user and password URL-encoded.
     */
    DATABASE_HOST: z.string().min(1).optional(),
    DATABASE_PORT: z.coerce.number().int().min(1).max(65535).default(5432),
    DATABASE_NAME: z.string().min(1).default("portal"),
    DATABASE_USER: z.string().min(1).optional(),
    DATABASE_PASSWORD: z.string().min(1).optional(),
    /** The web process's own role (see WEB_DATABASE_URL), in parts. */
    WEB_DATABASE_USER: z.string().min(1).optional(),
    WEB_DATABASE_PASSWORD: z.string().min(1).optional(),
    DATABASE_SSLMODE: z.enum(["disable", "require", "verify-ca", "verify-full"]).optional(),
    /** CA bundle that signs the database's certificate (verify-ca / verify-full). */
    DATABASE_SSLROOTCERT: z.string().min(1).optional(),
    DATA_DIR: z.string().default(path.join(repoRoot, ".data")),
    PORTAL_ROLE: z.enum(["all", "web", "worker"]).default("all"),
    WORKER_CONCURRENCY: int(4, 1),
    WORKER_NICE: z.coerce.number().int().min(0).max(19).default(10),
    // Sign-in (README "Run it for your company").
    AUTH_MODE: z.enum(AUTH_MODES).default("dev"),
    /** The portal's address as people open it (OIDC redirect URL, Origin checks). Default: http://localhost:PORT. */
    PUBLIC_URL: optionalUrl("PUBLIC_URL"),
    OIDC_ISSUER_URL: optionalUrl("OIDC_ISSUER_URL"),
    OIDC_CLIENT_ID: z.string().optional(),
    OIDC_CLIENT_SECRET: z.string().optional(),
    OIDC_SCOPES: z.string().default("openid email profile"),
    /** Allow an http:// issuer (a test or laptop identity provider). */
    OIDC_ALLOW_INSECURE_ISSUER: z
      .enum(["0", "1", "true", "false"])
      .default("0")
      .transform((v) => v === "1" || v === "true"),
    GROUPS_CLAIM: z.string().min(1).default("groups"),
    EMAIL_CLAIM: z.string().min(1).default("email"),
    NAME_CLAIM: z.string().min(1).default("name"),
    SESSION_SECRET: z.string().min(32, "SESSION_SECRET must be at least 32 characters").optional(),
    SESSION_HOURS: int(12, 1),
    PROXY_JWT_HEADER: z
      .string()
      .transform((s) => s.toLowerCase())
      .optional(),
    PROXY_JWT_JWKS_URL: optionalUrl("PROXY_JWT_JWKS_URL"),
    /** AWS ALB: per-key PEM URL with {kid}, e.g. https://public-keys.auth.elb.eu-west-1.amazonaws.com/{kid} */
    PROXY_JWT_PEM_KEY_URL: z
      .string()
      .refine(
        (u) => u.includes("{kid}") && URL.canParse(u.replace("{kid}", "k")),
        "PROXY_JWT_PEM_KEY_URL must be an http(s) URL containing {kid}",
      )
      .optional(),
    PROXY_JWT_ISSUER: z.string().optional(),
    PROXY_JWT_AUDIENCE: list,
    /** AWS ALB: the load balancer's ARN, checked against the token's `signer` header. */
    PROXY_JWT_ALB_ARN: z.string().startsWith("arn:", "PROXY_JWT_ALB_ARN must be an ARN").optional(),
    PROXY_JWT_ALGORITHMS: list
      .pipe(
        z.array(
          z.enum(["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "ES512", "EdDSA"], {
            message: "PROXY_JWT_ALGORITHMS: unknown algorithm",
          }),
        ),
      )
      .transform((a) => (a.length ? a : ["RS256", "ES256"])),
    // Roles from the identity provider's groups.
    ADMIN_GROUPS: list.transform((a) => (a.length ? a : ["portal-admins"])),
    MEMBER_GROUPS: list.transform((a) => (a.length ? a : ["portal-members"])),
    VIEWER_GROUPS: list.transform((a) => (a.length ? a : ["portal-viewers"])),
    /** Role of a signed-in person in none of the groups above: none (no access), viewer or member. */
    DEFAULT_ROLE: z.enum(["none", "viewer", "member"]).default("none"),
    /** Admins by e-mail whatever their groups (e.g. the first admin, or with Google IAP, which sends no groups). */
    ADMIN_USERS: list.transform((a) => a.map((u) => u.toLowerCase())),
    /** Which of a person's groups are teams: those starting with this prefix (empty: every non-role group). */
    TEAM_GROUP_PREFIX: z.string().default(""),
    /** dev mode: the groups header (comma-separated) and the local user's groups without it. */
    AUTH_GROUPS_HEADER: z
      .string()
      .default("x-forwarded-groups")
      .transform((s) => s.toLowerCase()),
    LOCAL_GROUPS: list.transform((a) => (a.length ? a : ["portal-admins"])),
    // Quotas and rate limits.
    QUOTA_ENVIRONMENTS_PER_PERSON: int(5, 1),
    QUOTA_ENVIRONMENTS_PER_TEAM: int(15, 1),
    QUOTA_ENVIRONMENTS_TOTAL: int(50, 1),
    QUOTA_REPLICAS_PER_ENVIRONMENT: int(12, 2),
    DEFAULT_TTL_HOURS: int(24, 1),
    RATE_LIMIT_ACTIONS_PER_MINUTE: int(30, 1),
    RATE_LIMIT_STREAMS_PER_MINUTE: int(60, 1),
    /** The web process's database role: one that cannot read or write the Pulumi state table. */
    WEB_DATABASE_URL: z
      .string()
      .refine((u) => /^postgres(ql)?:\/\//.test(u), "WEB_DATABASE_URL must be a postgres:// URL")
      .optional(),
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
    // Credentials of an ECS task role, of EKS pod identity / IRSA: the SDKs find them by these variables.
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: z.string().optional(),
    AWS_CONTAINER_CREDENTIALS_FULL_URI: z.string().optional(),
    AWS_WEB_IDENTITY_TOKEN_FILE: z.string().optional(),
    /**
     * Offer the aws target although this process has no AWS credentials: a web process whose workers hold them
     * (the portal on AWS gives its web tasks no AWS permissions at all).
     */
    AWS_ENABLED: z
      .enum(["0", "1", "true", "false"])
      .optional()
      .transform((v) => (v === undefined ? undefined : v === "1" || v === "true")),
    /** on: the local target is offered (the default); off: AWS only (e.g. the portal itself running on AWS). */
    LOCAL_TARGET: z.enum(["on", "off"]).default("on"),
    /** NAT gateways of the networks the portal creates: one per network (cheaper) or one per AZ. */
    AWS_NETWORK_NAT_GATEWAYS: z.enum(["single", "onePerAz"]).default("single"),
    /** Availability zones of the networks the portal creates (2 or 3). */
    AWS_NETWORK_AVAILABILITY_ZONES: z.coerce.number().int().min(2).max(3).default(2),
    /**
     * Existing VPCs to adopt instead of creating networks, as JSON by region:
     * {"eu-west-1": {"vpcId": "vpc-…", "privateSubnetIds": ["subnet-…", …], "publicSubnetIds": [...]}}.
     */
    AWS_NETWORKS: z
      .string()
      .optional()
      .transform((s, ctx) => {
        if (!s) return {} as Record<string, z.infer<typeof existingNetworkSchema>>;
        let raw: unknown;
        try {
          raw = JSON.parse(s);
        } catch {
          ctx.addIssue({ code: "custom", message: 'must be JSON: {"<region>": {"vpcId": …, …}}' });
          return z.NEVER;
        }
        const parsed = z.record(z.string(), existingNetworkSchema).safeParse(raw);
        if (!parsed.success) {
          for (const i of parsed.error.issues)
            ctx.addIssue({ code: "custom", message: `${i.path.join(".")}: ${i.message}` });
          return z.NEVER;
        }
        return parsed.data;
      }),
    /** A prebuilt voting-app image AWS environments run (no Docker needed by the worker). Read by the worker. */
    VOTING_APP_IMAGE: z
      .string()
      .regex(
        /^[a-z0-9][^\s]*[:@][^\s]+$/i,
        "VOTING_APP_IMAGE must be an image reference with a tag or digest",
      )
      .optional(),
    /** Permissions boundary (IAM policy ARN) of the roles AWS environments create; the portal on AWS sets it. */
    AWS_ENVIRONMENT_ROLE_BOUNDARY: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:policy\/[\w+=,.@/-]+$/, "must be an IAM policy ARN")
      .optional(),
    /** Pulumi's home (plugins, e.g. preinstalled in the portal's image). Default: DATA_DIR/environments/pulumi-home. */
    PULUMI_HOME: z.string().min(1).optional(),
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
    // Drift detection (a refresh preview per environment) on a schedule; 0 turns it off for that target.
    DRIFT_CHECK_LOCAL_SECONDS: int(300, 0),
    DRIFT_CHECK_AWS_SECONDS: int(0, 0),
    // How often a worker reads what the local supervisors repaired by themselves into the history; 0: never.
    REPAIR_SCAN_SECONDS: int(5, 0),
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
    // Personal access tokens and the API (README "API, tokens and the CLI").
    TOKEN_MAX_DAYS: int(365, 1),
    TOKEN_DEFAULT_DAYS: int(30, 1),
    /** Reads with a token are audited once per token per this many minutes (0: every read). */
    TOKEN_READ_AUDIT_MINUTES: int(60, 0),
    RATE_LIMIT_API_READS_PER_MINUTE: int(600, 1),
    // Webhooks (README "Webhooks").
    /** Allow webhook URLs on this machine (loopback; http too). Unset: allowed in AUTH_MODE=dev only. */
    WEBHOOK_ALLOW_LOOPBACK: z
      .enum(["0", "1", "true", "false"])
      .transform((v) => v === "1" || v === "true")
      .optional(),
    /** Host names that may resolve to private (internal) addresses. */
    WEBHOOK_PRIVATE_HOSTS: list.transform((a) => a.map((h) => h.toLowerCase())),
    WEBHOOK_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
    WEBHOOK_RETRY_SECONDS: int(30, 1),
    WEBHOOK_TIMEOUT_SECONDS: int(10, 1),
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
    if (c.DEFAULT_TTL_HOURS > c.MAX_TTL_HOURS) {
      ctx.addIssue({ code: "custom", path: ["DEFAULT_TTL_HOURS"], message: "must be ≤ MAX_TTL_HOURS" });
    }
    const need = (key: keyof typeof c, why: string) => {
      if (!c[key]) ctx.addIssue({ code: "custom", path: [key], message: `is required ${why}` });
    };
    if (c.AUTH_MODE === "dev" && c.PORTAL_ROLE !== "worker" && !isLoopback(c.LISTEN_HOST)) {
      ctx.addIssue({
        code: "custom",
        path: ["AUTH_MODE"],
        message: `AUTH_MODE=dev trusts anyone who can reach the portal, so it listens on loopback only; LISTEN_HOST=${c.LISTEN_HOST} reaches beyond this machine. Set AUTH_MODE=oidc or AUTH_MODE=proxy-jwt (see "Run it for your company" in apps/portal/README.md), or LISTEN_HOST=127.0.0.1`,
      });
    }
    if (c.AUTH_MODE === "oidc") {
      need("OIDC_ISSUER_URL", "when AUTH_MODE=oidc");
      need("OIDC_CLIENT_ID", "when AUTH_MODE=oidc");
      if (c.OIDC_ISSUER_URL?.startsWith("http:") && !c.OIDC_ALLOW_INSECURE_ISSUER) {
        ctx.addIssue({
          code: "custom",
          path: ["OIDC_ISSUER_URL"],
          message: "must be https:// (set OIDC_ALLOW_INSECURE_ISSUER=1 only for a test identity provider)",
        });
      }
    }
    if (c.AUTH_MODE === "proxy-jwt") {
      need("PROXY_JWT_HEADER", "when AUTH_MODE=proxy-jwt");
      need("PROXY_JWT_ISSUER", "when AUTH_MODE=proxy-jwt");
      if (!c.PROXY_JWT_JWKS_URL === !c.PROXY_JWT_PEM_KEY_URL) {
        ctx.addIssue({
          code: "custom",
          path: ["PROXY_JWT_JWKS_URL"],
          message: "set exactly one of PROXY_JWT_JWKS_URL and PROXY_JWT_PEM_KEY_URL when AUTH_MODE=proxy-jwt",
        });
      }
      if (c.PROXY_JWT_AUDIENCE.length === 0 && !c.PROXY_JWT_ALB_ARN) {
        ctx.addIssue({
          code: "custom",
          path: ["PROXY_JWT_AUDIENCE"],
          message:
            "is required when AUTH_MODE=proxy-jwt (AWS ALB tokens have none: set PROXY_JWT_ALB_ARN instead)",
        });
      }
    }
    if (c.TOKEN_DEFAULT_DAYS > c.TOKEN_MAX_DAYS) {
      ctx.addIssue({ code: "custom", path: ["TOKEN_DEFAULT_DAYS"], message: "must be ≤ TOKEN_MAX_DAYS" });
    }
    for (const region of Object.keys(c.AWS_NETWORKS)) {
      if (!c.AWS_REGIONS.includes(region)) {
        ctx.addIssue({
          code: "custom",
          path: ["AWS_NETWORKS"],
          message: `names ${region}, which AWS_REGIONS does not offer`,
        });
      }
    }
    if (c.DATABASE_HOST && !c.DATABASE_URL && !!c.DATABASE_USER !== !!c.DATABASE_PASSWORD) {
      ctx.addIssue({
        code: "custom",
        path: ["DATABASE_USER"],
        message: "DATABASE_USER and DATABASE_PASSWORD go together",
      });
    }
    if (!!c.WEB_DATABASE_USER !== !!c.WEB_DATABASE_PASSWORD) {
      ctx.addIssue({
        code: "custom",
        path: ["WEB_DATABASE_USER"],
        message: "WEB_DATABASE_USER and WEB_DATABASE_PASSWORD go together",
      });
    }
    if ((c.WEB_DATABASE_USER || c.DATABASE_USER) && !c.DATABASE_HOST) {
      ctx.addIssue({
        code: "custom",
        path: ["DATABASE_HOST"],
        message: "is required with DATABASE_USER or WEB_DATABASE_USER (the URLs are built from the parts)",
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

/** `postgres://user:password@host:port/name?sslmode=…` with the user and password URL-encoded. */
function databaseUrlFrom(
  c: {
    DATABASE_HOST?: string;
    DATABASE_PORT: number;
    DATABASE_NAME: string;
    DATABASE_SSLMODE?: string;
    DATABASE_SSLROOTCERT?: string;
  },
  user: string,
  password: string,
): string {
  const u = new URL(
    `postgres://${c.DATABASE_HOST}:${c.DATABASE_PORT}/${encodeURIComponent(c.DATABASE_NAME)}`,
  );
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(password);
  if (c.DATABASE_SSLMODE) u.searchParams.set("sslmode", c.DATABASE_SSLMODE);
  if (c.DATABASE_SSLROOTCERT) u.searchParams.set("sslrootcert", c.DATABASE_SSLROOTCERT);
  return u.toString();
}

/** DATABASE_URL and WEB_DATABASE_URL from their parts, where they are not given as URLs. */
const withDatabaseUrls = configSchema.transform((c) => ({
  ...c,
  DATABASE_URL:
    c.DATABASE_URL ??
    (c.DATABASE_HOST && c.DATABASE_USER && c.DATABASE_PASSWORD
      ? databaseUrlFrom(c, c.DATABASE_USER, c.DATABASE_PASSWORD)
      : undefined),
  WEB_DATABASE_URL:
    c.WEB_DATABASE_URL ??
    (c.DATABASE_HOST && c.WEB_DATABASE_USER && c.WEB_DATABASE_PASSWORD
      ? databaseUrlFrom(c, c.WEB_DATABASE_USER, c.WEB_DATABASE_PASSWORD)
      : undefined),
}));

export type PortalConfig = z.infer<typeof withDatabaseUrls>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function parseConfig(source: Record<string, string | undefined>): PortalConfig {
  // An empty variable means "not set" (e.g. `DATABASE_URL= npm start`).
  const set = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = withDatabaseUrls.safeParse(set);
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

/**
 * Whether the aws target can be offered: regions listed, and credentials present (keys, a profile, a
 * container or web-identity role) or AWS_ENABLED=true (a web process whose workers hold them).
 */
export function awsEnabled(c: PortalConfig): boolean {
  if (c.AWS_REGIONS.length === 0 || c.AWS_ENABLED === false) return false;
  return Boolean(
    c.AWS_ENABLED ||
      c.AWS_ACCESS_KEY_ID ||
      c.AWS_PROFILE ||
      c.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI ||
      c.AWS_CONTAINER_CREDENTIALS_FULL_URI ||
      c.AWS_WEB_IDENTITY_TOKEN_FILE,
  );
}

/** The portal's address as people open it. */
export const publicUrl = (c: PortalConfig) =>
  (c.PUBLIC_URL ?? `http://localhost:${c.PORT}`).replace(/\/+$/, "");

export function limitsFrom(c: PortalConfig): Limits {
  return {
    frontendReplicas: { min: c.FRONTEND_REPLICAS_MIN, max: c.FRONTEND_REPLICAS_MAX },
    redisReplicas: { min: c.REDIS_REPLICAS_MIN, max: c.REDIS_REPLICAS_MAX },
    awsRegions: awsEnabled(c) ? c.AWS_REGIONS : [],
    localTarget: c.LOCAL_TARGET === "on",
    maxTtlHours: c.MAX_TTL_HOURS,
    defaultTtlHours: c.DEFAULT_TTL_HOURS,
    replicasPerEnvironment: c.QUOTA_REPLICAS_PER_ENVIRONMENT,
  };
}

/** Whether webhook URLs may point at this machine (a laptop, tests): on by default only in AUTH_MODE=dev. */
export const webhookAllowLoopback = (c: PortalConfig) => c.WEBHOOK_ALLOW_LOOPBACK ?? c.AUTH_MODE === "dev";

/** The worker's webhook delivery settings. */
export const webhookSettings = (c: PortalConfig) => ({
  attempts: c.WEBHOOK_ATTEMPTS,
  retrySeconds: c.WEBHOOK_RETRY_SECONDS,
  timeoutSeconds: c.WEBHOOK_TIMEOUT_SECONDS,
  policy: webhookPolicy(c),
  publicUrl: publicUrl(c),
});

/** Where webhooks may be sent (features/webhooks/url-policy.ts). */
export const webhookPolicy = (c: PortalConfig) => ({
  allowLoopback: webhookAllowLoopback(c),
  privateHosts: c.WEBHOOK_PRIVATE_HOSTS,
});
