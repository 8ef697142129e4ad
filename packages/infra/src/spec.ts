import { z } from "zod";
import { existingEnvironmentNameSchema } from "./environment-name";
import type { EnvironmentRef, EnvironmentSpec, NetworkRef, NetworkSpec } from "./operations/types";

// One schema per contract: these validate what the portal hands to the operations, before any Pulumi run.

export const targetSchema = z.enum(["local", "aws"]);

/** AWS regions of every partition: commercial (eu-west-1), GovCloud (us-gov-west-1), China (cn-north-1). */
export const awsRegionSchema = z
  .string()
  .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "region must be an AWS region such as eu-west-1");

/**
 * A network's name: the stack name in the `platform-networks` project. DNS-safe like environment names; no
 * AWS name is derived from it beyond tags, so it may be longer.
 */
export const networkNameSchema = z
  .string({ error: "Network name is required." })
  .trim()
  .min(3, "Use at least 3 characters.")
  .max(40, "Use at most 40 characters.")
  .regex(/^[a-z][a-z0-9-]*[a-z0-9]$/, "Use lower-case letters, digits and dashes; start with a letter.")
  .refine((n) => !n.includes("--"), "Do not use two dashes in a row.");

/**
 * The local target's network: every local environment binds this machine's loopback interface, which all of
 * them share (as AWS environments of a region share their network's VPC). Nothing to create or destroy.
 */
export const LOCAL_NETWORK = {
  name: "loopback",
  address: "127.0.0.1",
  description: "this machine's loopback interface (127.0.0.1), shared by every local environment",
} as const;

/** The network an AWS environment uses when its spec names none: one per region (and per account). */
export function defaultNetworkName(region: string): string {
  return `aws-${region}`;
}

const voteOptionsSchema = z
  .string()
  .refine(
    (v) => v.split(",").filter((o) => o.trim().length > 0).length >= 2,
    "voteOptions needs at least 2 options",
  )
  .refine((v) => !/[\p{Cc}]/u.test(v), "voteOptions must not contain control characters");

// ---- per-environment options of the tiers: the one place that lists them (the portal's form reads these) ----

/** The cache (Redis) tier: Redis tasks on Fargate, or a managed ElastiCache replication group. */
export const CACHE_KINDS = ["redis", "elasticache"] as const;
export type CacheKind = (typeof CACHE_KINDS)[number];
export const CACHE_KIND_LABELS: Record<CacheKind, string> = {
  redis: "Redis on Fargate",
  elasticache: "ElastiCache",
};
/** What each cache kind is on the local target, where neither Fargate nor ElastiCache exists. */
export const CACHE_KIND_LOCAL_MEANING: Record<CacheKind, string> = {
  redis: "redis-server processes without persistence (a restarted primary comes back empty)",
  elasticache:
    "redis-server processes with AOF persistence, as a managed cache keeps its data (a restarted primary keeps it)",
};
/** ElastiCache node types offered (Graviton, current generation). */
export const CACHE_NODE_TYPES = [
  "cache.t4g.micro",
  "cache.t4g.small",
  "cache.t4g.medium",
  "cache.m7g.large",
  "cache.r7g.large",
] as const;
export type CacheNodeType = (typeof CACHE_NODE_TYPES)[number];

export const cacheOptionsSchema = z
  .object({
    kind: z.enum(CACHE_KINDS, { error: `cache.kind must be one of ${CACHE_KINDS.join(", ")}` }),
    /** ElastiCache only: the node type of every node (primary and replicas). */
    nodeType: z
      .enum(CACHE_NODE_TYPES, { error: `cache.nodeType must be one of ${CACHE_NODE_TYPES.join(", ")}` })
      .default("cache.t4g.micro"),
  })
  .strict();
export type CacheOptions = z.input<typeof cacheOptionsSchema>;

/** The database tier: none (votes live in the cache only) or PostgreSQL (RDS on AWS). */
export const DATABASE_ENGINES = ["postgres"] as const;
export const DATABASE_ENGINE_LABELS: Record<(typeof DATABASE_ENGINES)[number] | "none", string> = {
  none: "None",
  postgres: "PostgreSQL",
};
/** RDS instance classes offered (Graviton, current generation). */
export const DATABASE_INSTANCE_CLASSES = [
  "db.t4g.micro",
  "db.t4g.small",
  "db.t4g.medium",
  "db.m7g.large",
  "db.r7g.large",
] as const;
export type DatabaseInstanceClass = (typeof DATABASE_INSTANCE_CLASSES)[number];
export const DATABASE_STORAGE_GB = { min: 20, max: 1000, default: 20 } as const;
export const DATABASE_BACKUP_RETENTION_DAYS = { min: 0, max: 35, default: 1 } as const;

export const databaseOptionsSchema = z
  .object({
    engine: z.enum(DATABASE_ENGINES, { error: "database.engine must be postgres" }),
    instanceClass: z
      .enum(DATABASE_INSTANCE_CLASSES, {
        error: `database.instanceClass must be one of ${DATABASE_INSTANCE_CLASSES.join(", ")}`,
      })
      .default("db.t4g.micro"),
    /** Allocated storage (gp3). */
    storageGb: z
      .number()
      .int("database.storageGb must be a whole number")
      .min(DATABASE_STORAGE_GB.min, `database.storageGb must be at least ${DATABASE_STORAGE_GB.min}`)
      .max(DATABASE_STORAGE_GB.max, `database.storageGb must be at most ${DATABASE_STORAGE_GB.max}`)
      .default(DATABASE_STORAGE_GB.default),
    /** Automated backups kept for this many days (0 turns them off). */
    backupRetentionDays: z
      .number()
      .int("database.backupRetentionDays must be a whole number")
      .min(0, "database.backupRetentionDays must be between 0 and 35")
      .max(35, "database.backupRetentionDays must be between 0 and 35")
      .default(DATABASE_BACKUP_RETENTION_DAYS.default),
    /**
     * Off for ephemeral environments (destroy deletes the database, no final snapshot). On: AWS refuses to delete
     * the instance (destroy fails until it is turned off again), and a final snapshot is taken when it is deleted.
     */
    deletionProtection: z.boolean().default(false),
  })
  .strict();
export type DatabaseOptions = z.input<typeof databaseOptionsSchema>;

export const environmentSpecSchema = z
  .object({
    name: existingEnvironmentNameSchema,
    target: targetSchema,
    frontendReplicas: z.number().int().min(1).max(20),
    redisReplicas: z.number().int().min(1).max(6),
    owner: z.string().min(1).max(120).optional(),
    /** Absent: Redis on Fargate (locally: redis-server without persistence). */
    cache: cacheOptionsSchema.optional(),
    /** Absent: no database. */
    database: databaseOptionsSchema.optional(),
    aws: z
      .object({
        region: awsRegionSchema,
        certificateArn: z.string().startsWith("arn:").optional(),
        network: networkNameSchema.optional(),
      })
      .strict()
      .optional(),
    app: z.object({ allowReset: z.boolean().optional() }).strict().optional(),
    local: z
      .object({
        voteOptions: voteOptionsSchema.optional(),
        appTitle: z.string().min(1).max(80).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    if (spec.target === "aws" && !spec.aws) {
      ctx.addIssue({
        code: "custom",
        path: ["aws"],
        message: "target aws needs aws options (at least region)",
      });
    }
  }) satisfies z.ZodType<EnvironmentSpec>;

export const environmentRefSchema = z
  .object({ name: existingEnvironmentNameSchema, target: targetSchema })
  .strip() satisfies z.ZodType<EnvironmentRef>;

export const operationsConfigSchema = z.object({
  backendUrl: z
    .string()
    .refine(
      (u) => u.startsWith("postgres://") || u.startsWith("file://"),
      "backendUrl must be postgres://user:pass@host:port/db?sslmode=disable&table=NAME or file://<dir>",
    ),
  passphrase: z.string().min(1).optional(),
  dataDir: z.string().min(1),
  workspacesDir: z.string().min(1).optional(),
  pulumiHome: z.string().min(1).optional(),
  cliRoot: z.string().min(1).optional(),
  redisServerPath: z.string().min(1).optional(),
  votingAppMain: z.string().min(1).optional(),
  awsFrontendImage: z
    .string()
    .regex(/^[a-z0-9][^\s]*[:@][^\s]+$/i, "awsFrontendImage must be an image reference with a tag or digest")
    .optional(),
  awsRoleBoundaryArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:iam::\d{12}:policy\/[\w+=,.@/-]+$/,
      "awsRoleBoundaryArn must be an IAM policy ARN",
    )
    .optional(),
  haproxyPath: z.string().min(1).optional(),
  supervisordPath: z.string().min(1).optional(),
});

const awsIdSchema = (prefix: string, field: string) =>
  z
    .string()
    .regex(new RegExp(`^${prefix}-[0-9a-f]{8,17}$`), `${field} must look like ${prefix}-0123456789abcdef0`);

/** An existing VPC to adopt. What ids alone cannot show (AZs, routes) is checked against AWS when it runs. */
export const existingNetworkSchema = z
  .object({
    vpcId: awsIdSchema("vpc", "vpcId"),
    privateSubnetIds: z
      .array(awsIdSchema("subnet", "a subnet id"))
      .min(2, "privateSubnetIds needs at least 2 subnets, in two availability zones"),
    publicSubnetIds: z
      .array(awsIdSchema("subnet", "a subnet id"))
      .min(2, "publicSubnetIds needs at least 2 subnets, in two availability zones"),
  })
  .strict()
  .superRefine((n, ctx) => {
    for (const key of ["privateSubnetIds", "publicSubnetIds"] as const) {
      if (new Set(n[key]).size !== n[key].length)
        ctx.addIssue({ code: "custom", path: [key], message: `${key} lists a subnet twice` });
    }
    if (n.privateSubnetIds.some((s) => n.publicSubnetIds.includes(s))) {
      ctx.addIssue({
        code: "custom",
        path: ["privateSubnetIds"],
        message: "a subnet cannot be both private and public",
      });
    }
  });

/** A private (RFC 1918) /16: the created VPC's range, split into /19 private and /22 public subnets. */
export const networkCidrSchema = z
  .string()
  .regex(
    /^(10\.(25[0-5]|2[0-4]\d|1?\d?\d)|172\.(1[6-9]|2\d|3[01])|192\.168)\.0\.0\/16$/,
    "cidrBlock must be a private /16 such as 10.0.0.0/16, 172.16.0.0/16 or 192.168.0.0/16",
  );

export const networkSpecSchema = z
  .object({
    name: networkNameSchema,
    region: awsRegionSchema,
    owner: z.string().min(1).max(120).optional(),
    availabilityZones: z
      .number()
      .int("availabilityZones must be a whole number")
      .min(2, "availabilityZones must be 2 or 3")
      .max(3, "availabilityZones must be 2 or 3")
      .optional(),
    natGateways: z.enum(["single", "onePerAz"]).optional(),
    cidrBlock: networkCidrSchema.optional(),
    existing: existingNetworkSchema.optional(),
  })
  .strict()
  .superRefine((n, ctx) => {
    if (!n.existing) return;
    for (const key of ["availabilityZones", "natGateways", "cidrBlock"] as const) {
      if (n[key] !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `${key} applies to a created network only (an adopted VPC brings its own)`,
        });
      }
    }
  }) satisfies z.ZodType<NetworkSpec>;

export const networkRefSchema = z.object({ name: networkNameSchema }).strip() satisfies z.ZodType<NetworkRef>;
