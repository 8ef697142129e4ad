// The VotingEnvironment's input contract: one zod schema, the derived AWS names, and the error thrown on bad input.
// Everything here is plain data checked before any resource is registered, so a bad request creates nothing.
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { awsEnvironmentNameSchema } from "../environment-name";
import { cacheOptionsSchema, databaseOptionsSchema, existingNetworkSchema } from "../spec";
import { DEFAULT_TASK_SIZE, FARGATE_SIZES } from "../task-sizes";

export { FARGATE_SIZES };

/** Where the voting app (and its Dockerfile) lives: packages/voting-app, from src/aws or dist/aws alike. */
export const DEFAULT_APP_PATH = path.resolve(__dirname, "..", "..", "..", "voting-app");

export const AWS_LB_NAME_MAX = 32;
/** Frontend tasks per environment (without autoscaling). */
export const MAX_FRONTEND_REPLICAS = 20;
/** Redis tasks per environment, the writer included: 1 writer + up to 5 read replicas. */
export const MAX_REDIS_REPLICAS = 6;
export const MAX_AUTOSCALING_TASKS = 50;

export const REDIS_PORT = 6379;
/** The NLB's reader listener. One NLB cannot have two listeners on one port, so readers get 6380 (→ 6379 on the task). */
export const REDIS_READER_PORT = 6380;
export const DEFAULT_APP_PORT = 8080;
/** The voting app's liveness probe: 200 while the process serves, whatever Redis does. */
export const LIVENESS_PATH = "/healthz";
/** The voting app's readiness probe: 503 while Redis is unreachable. Never the balancer's check (frontend-tier.ts). */
export const READINESS_PATH = "/readyz";
/** The official Redis image, pulled from its ECR Public mirror: no Docker Hub pull-rate limits behind a NAT. */
export const DEFAULT_REDIS_IMAGE = "public.ecr.aws/docker/library/redis:7.4-alpine";

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

// AWS tag values: letters, digits, spaces and + - = . _ : / @, at most 256 characters.
const tagValueSchema = (field: string) =>
  z
    .string({ error: `${field} is required` })
    .trim()
    .min(1, `${field} must not be empty`)
    .max(256, `${field} must be at most 256 characters`)
    .regex(
      /^[\p{L}\p{N}\s+\-=._:/@]+$/u,
      `${field} may contain letters, digits, spaces and + - = . _ : / @ only`,
    );

const replicas = (field: string, max: number) =>
  z
    .number({ error: `${field} must be a number` })
    .int(`${field} must be a whole number`)
    .min(1, `${field} must be at least 1`)
    .max(max, `${field} must be at most ${max}`);

export const autoscalingSchema = z
  .object({
    min: z
      .number()
      .int("autoscaling.min must be a whole number")
      .min(1, "autoscaling.min must be at least 1"),
    max: z
      .number()
      .int("autoscaling.max must be a whole number")
      .max(MAX_AUTOSCALING_TASKS, `autoscaling.max must be at most ${MAX_AUTOSCALING_TASKS}`),
    targetCpu: z
      .number()
      .min(10, "autoscaling.targetCpu must be between 10 and 90 (percent)")
      .max(90, "autoscaling.targetCpu must be between 10 and 90 (percent)")
      .default(60),
  })
  .strict()
  .refine((a) => a.min <= a.max, {
    message: "autoscaling.min must not exceed autoscaling.max",
    path: ["max"],
  });

const taskSizeSchema = z
  .object({
    cpu: z.number().int().default(DEFAULT_TASK_SIZE.cpu),
    memory: z.number().int().default(DEFAULT_TASK_SIZE.memory),
    autoscaling: autoscalingSchema.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const allowed = FARGATE_SIZES[s.cpu];
    if (!allowed) {
      ctx.addIssue({
        code: "custom",
        path: ["cpu"],
        message: `cpu must be one of ${Object.keys(FARGATE_SIZES).join(", ")} (Fargate CPU units)`,
      });
    } else if (!allowed.includes(s.memory)) {
      ctx.addIssue({
        code: "custom",
        path: ["memory"],
        message: `memory ${s.memory} MiB is not valid with cpu ${s.cpu} on Fargate (allowed: ${allowed.join(", ")})`,
      });
    }
  });

/**
 * The network an environment is placed in: the outputs of its network stack (see network-reference.ts), or
 * any VPC and subnets given directly when the component is used on its own.
 */
export const environmentNetworkSchema = existingNetworkSchema;

// Same rules as the voting app's VOTE_OPTIONS (comma-separated in the env var).
const voteOptionsSchema = z
  .array(
    z
      .string()
      .trim()
      .min(1, "voteOptions must not contain empty options")
      .max(40, "each vote option must be at most 40 characters")
      .regex(/^[^\p{Cc},]+$/u, "vote options must not contain commas or control characters"),
  )
  .min(2, "voteOptions must list between 2 and 12 options")
  .max(12, "voteOptions must list between 2 and 12 options")
  .refine(
    (o) => new Set(o.map((v) => v.toLowerCase())).size === o.length,
    "voteOptions must not repeat an option",
  );

export const certificateArnSchema = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/,
    "certificateArn must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<uuid>)",
  );

export const votingEnvironmentArgsSchema = z
  .object({
    /** Environment name: DNS-safe, at most 20 characters; prefixes every AWS name. */
    name: awsEnvironmentNameSchema,
    /** Who asked for it; recorded in the Owner tag. */
    owner: tagValueSchema("owner"),
    frontendReplicas: replicas("frontendReplicas", MAX_FRONTEND_REPLICAS),
    /** Redis tasks in total: 1 writer + (N-1) read replicas. */
    redisReplicas: replicas("redisReplicas", MAX_REDIS_REPLICAS),
    /** Folder with the voting app's Dockerfile. */
    appPath: z.string().min(1).default(DEFAULT_APP_PATH),
    /** Dockerfile, relative to appPath. */
    dockerfile: z.string().min(1).default("Dockerfile"),
    /** Docker build context; defaults to appPath. */
    buildContext: z.string().min(1).optional(),
    appPort: z
      .number()
      .int()
      .min(1024, "appPort must be between 1024 and 65535")
      .max(65535, "appPort must be between 1024 and 65535")
      .refine((p) => p !== REDIS_PORT && p !== REDIS_READER_PORT, "appPort must not be a Redis port")
      .default(DEFAULT_APP_PORT),
    /**
     * The load balancer's (and the container's) health check: a LIVENESS path. ECS replaces every task that
     * fails it, so a path that depends on Redis would replace all frontends during a Redis outage.
     */
    healthCheckPath: z
      .string()
      .max(1024)
      .regex(
        /^\/[A-Za-z0-9\-._~/]*$/,
        `healthCheckPath must be an absolute URL path such as ${LIVENESS_PATH}`,
      )
      .refine(
        (p) => p.replace(/\/+$/, "") !== READINESS_PATH,
        `healthCheckPath must be a liveness path such as ${LIVENESS_PATH}: ${READINESS_PATH} fails while Redis is unreachable, and ECS would replace every healthy frontend`,
      )
      .default(LIVENESS_PATH),
    certificateArn: certificateArnSchema.optional(),
    /**
     * The host name users open (the one the certificate names); the frontend URL uses it instead of the ALB's own
     * DNS name, for which no public certificate can exist.
     */
    domainName: z
      .string()
      .trim()
      .toLowerCase()
      .max(253, "domainName must be at most 253 characters")
      .regex(
        /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
        "domainName must be a fully qualified host name such as vote.example.com (no scheme, port or path)",
      )
      .optional(),
    /** A Route 53 public hosted zone for domainName: the environment then owns an alias record to its ALB. */
    hostedZoneId: z
      .string()
      .regex(
        /^Z[A-Z0-9]{1,31}$/,
        "hostedZoneId must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ",
      )
      .optional(),
    /**
     * The shared network to place everything in (an environment creates no VPC of its own): a network stack's
     * outputs (awsEnvironmentProgram reads them) or any VPC with private subnets that route through a NAT.
     */
    network: environmentNetworkSchema.optional(),
    /**
     * A prebuilt voting-app image (e.g. `<account>.dkr.ecr.<region>.amazonaws.com/voting-app@sha256:…`) instead of
     * building one per environment: what the portal's worker uses on ECS, where no Docker engine exists.
     */
    frontendImage: z
      .string()
      .regex(/^[a-z0-9][^\s]*[:@][^\s]+$/i, "frontendImage must be an image reference with a tag or digest")
      .optional(),
    frontend: taskSizeSchema.default({ ...DEFAULT_TASK_SIZE }),
    /** Sizes for every Redis task; `autoscaling` applies to the read-replica service only (the writer is always 1). */
    redis: taskSizeSchema.default({ ...DEFAULT_TASK_SIZE }),
    /**
     * A permissions boundary (IAM policy ARN) for the roles the environment creates: set when the portal runs
     * on AWS, whose worker may only create roles under that boundary.
     */
    roleBoundaryArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:policy\/[\w+=,.@/-]+$/, "roleBoundaryArn must be an IAM policy ARN")
      .optional(),
    logRetentionDays: z
      .number()
      .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
        message: `logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(", ")}`,
      })
      .default(14),
    voteOptions: voteOptionsSchema.optional(),
    appTitle: z
      .string()
      .trim()
      .min(1, "appTitle must not be empty")
      .max(100, "appTitle is too long")
      .optional(),
    /** The voting app's "reset all votes" form and API (ALLOW_RESET); off by default. */
    allowReset: z.boolean().default(false),
    redisImage: z.string().min(1).default(DEFAULT_REDIS_IMAGE),
    /** Fixed Redis password (stored as a secret). Default: a random 32-character password. */
    redisPassword: z.string().min(16, "redisPassword must be at least 16 characters").optional(),
    /** The cache tier (elasticache-tier.ts); `redisReplicas` counts its nodes either way. */
    cache: cacheOptionsSchema.default({ kind: "redis", nodeType: "cache.t4g.micro" }),
    /** A PostgreSQL tier (database-tier.ts); absent: none. */
    database: databaseOptionsSchema.optional(),
  })
  .strict()
  .superRefine((a, ctx) => {
    const dockerfile = path.resolve(a.appPath, a.dockerfile);
    if (!fs.existsSync(dockerfile)) {
      ctx.addIssue({
        code: "custom",
        path: ["appPath"],
        message: `no Dockerfile at ${dockerfile} (appPath must be the voting app's folder)`,
      });
    }
    if (!a.network) {
      ctx.addIssue({
        code: "custom",
        path: ["network"],
        message:
          "network is required: an environment creates no VPC, it is placed in the region's shared network (its VPC and subnets)",
      });
    }
    if (a.hostedZoneId && !a.domainName) {
      ctx.addIssue({
        code: "custom",
        path: ["hostedZoneId"],
        message: "hostedZoneId needs domainName (the record to create in that zone)",
      });
    }
    const fa = a.frontend.autoscaling;
    if (fa && (a.frontendReplicas < fa.min || a.frontendReplicas > fa.max)) {
      ctx.addIssue({
        code: "custom",
        path: ["frontendReplicas"],
        message: `frontendReplicas (${a.frontendReplicas}) must lie within frontend.autoscaling min..max (${fa.min}..${fa.max})`,
      });
    }
    const ra = a.redis.autoscaling;
    if (ra && a.cache.kind === "elasticache") {
      ctx.addIssue({
        code: "custom",
        path: ["redis", "autoscaling"],
        message:
          "redis.autoscaling scales Redis tasks on Fargate; an ElastiCache group has a fixed node count",
      });
    } else if (ra) {
      const readers = a.redisReplicas - 1;
      if (readers === 0) {
        ctx.addIssue({
          code: "custom",
          path: ["redis", "autoscaling"],
          message: "redis.autoscaling scales the read replicas and needs redisReplicas > 1",
        });
      } else if (readers < ra.min || readers > ra.max) {
        ctx.addIssue({
          code: "custom",
          path: ["redisReplicas"],
          message: `redisReplicas - 1 read replicas (${readers}) must lie within redis.autoscaling min..max (${ra.min}..${ra.max})`,
        });
      }
    }
  });

export type VotingEnvironmentArgs = z.input<typeof votingEnvironmentArgsSchema> & {
  network: z.input<typeof environmentNetworkSchema>;
};
export type ValidVotingEnvironmentArgs = z.output<typeof votingEnvironmentArgsSchema> & {
  network: z.output<typeof environmentNetworkSchema>;
};

export interface ArgsIssue {
  path: string;
  message: string;
}

/** Thrown for invalid args, before any resource exists. `issues` lists every problem, not just the first. */
export class VotingEnvironmentArgsError extends Error {
  readonly issues: ArgsIssue[];
  constructor(issues: ArgsIssue[]) {
    super(
      `Invalid voting environment arguments:\n${issues.map((i) => `- ${i.path}: ${i.message}`).join("\n")}`,
    );
    this.name = "VotingEnvironmentArgsError";
    this.issues = issues;
  }
}

export function toIssues(error: z.ZodError): ArgsIssue[] {
  return error.issues.map((i) => ({ path: i.path.length ? i.path.join(".") : "(args)", message: i.message }));
}

export function parseVotingEnvironmentArgs(args: unknown): ValidVotingEnvironmentArgs {
  const result = votingEnvironmentArgsSchema.safeParse(args);
  if (!result.success) throw new VotingEnvironmentArgsError(toIssues(result.error));
  return result.data as ValidVotingEnvironmentArgs; // network: checked by the refinement above
}

/**
 * Pulumi auto-names load balancers and target groups `<logical name>-<7 random characters>` (32 at most): a
 * change that replaces one (port, protocol, VPC, target type) creates the new one under a new name before the
 * old one is deleted, which a fixed name would make fail ("a load balancer with that name already exists").
 */
export const AUTONAME_SUFFIX_LENGTH = 8;

/**
 * The names derived from the environment name. Load balancers and target groups get these as Pulumi logical
 * names (the AWS name is the logical name plus a random suffix, see AUTONAME_SUFFIX_LENGTH); each stays within
 * AWS_LB_NAME_MAX - AUTONAME_SUFFIX_LENGTH = 24 characters for the longest environment name (20).
 */
export function awsNames(env: string) {
  return {
    alb: `${env}-web`,
    nlb: `${env}-nlb`,
    frontendTargetGroup: `${env}-web`,
    writerTargetGroup: `${env}-rw`,
    readerTargetGroup: `${env}-rr`,
    /** ElastiCache replication group id (≤ 40 characters) and its subnet group. */
    cache: `${env}-cache`,
    /** RDS instance identifier (≤ 63 characters) and its subnet group. */
    database: `${env}-db`,
    logGroups: {
      frontend: `/platform/${env}/frontend`,
      redisWriter: `/platform/${env}/redis-writer`,
      redisReplicas: `/platform/${env}/redis-replicas`,
    },
  };
}
