// The input contract of the portal's own deployment on AWS (PortalOnAws): one zod schema, checked before any
// resource is registered.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { awsRegionSchema, existingNetworkSchema } from "../spec";
import { FARGATE_SIZES } from "../task-sizes";

/** The port the portal's web process listens on inside its container. */
export const PORTAL_PORT = 3000;
/** Liveness of the web process (no database call): the balancer's check, see portal.ts. */
export const PORTAL_LIVENESS_PATH = "/api/live";
/** Readiness (the database answers): for people and monitors, never the balancer's check. */
export const PORTAL_READINESS_PATH = "/api/health";

const service = (defaults: { cpu: number; memory: number; min: number; max: number }) =>
  z
    .object({
      cpu: z.number().int().default(defaults.cpu),
      memory: z.number().int().default(defaults.memory),
      /** Tasks always running, and the most the scaler may start. */
      min: z.number().int().min(1).max(20).default(defaults.min),
      max: z.number().int().min(1).max(50).default(defaults.max),
      /** Target average CPU (percent) the scaler keeps. */
      targetCpu: z.number().min(10).max(90).default(60),
    })
    .strict()
    .superRefine((s, ctx) => {
      if (!FARGATE_SIZES[s.cpu]?.includes(s.memory)) {
        ctx.addIssue({
          code: "custom",
          path: ["memory"],
          message: `cpu ${s.cpu} with memory ${s.memory} MiB is not a Fargate size`,
        });
      }
      if (s.min > s.max) ctx.addIssue({ code: "custom", path: ["min"], message: "min must not exceed max" });
    })
    .prefault({});

/** A value given as is (checked) or as a Pulumi output (known only during the run: an image built, a network created). */
function orOutput<T extends z.ZodType>(plain: T) {
  return z.union([plain, z.custom<pulumi.Input<z.output<T>>>((v) => pulumi.Output.isInstance(v))]);
}

const https = (what: string) =>
  z
    .string()
    .url(`${what} must be a URL`)
    .refine((u) => u.startsWith("https://"), `${what} must be an https:// URL`);

export const portalArgsSchema = z
  .object({
    /** Prefix of every name (DNS-safe, ≤ 20). */
    name: z
      .string()
      .regex(/^[a-z][a-z0-9-]{1,18}[a-z0-9]$/, "name must be 3-20 lower-case letters, digits and dashes")
      .default("portal"),
    /** The portal's image (apps/portal/Dockerfile), e.g. `<account>.dkr.ecr.<region>.amazonaws.com/portal@sha256:…`. */
    image: orOutput(z.string().min(1, "image is required")),
    /** The voting app's image every AWS environment runs (no Docker in the worker). */
    votingAppImage: orOutput(z.string().min(1, "votingAppImage is required")),
    /** Where the portal runs: a network's outputs (a PlatformNetwork of its own, or an adopted VPC). */
    network: z.union([
      existingNetworkSchema,
      z
        .object({
          vpcId: orOutput(z.string()),
          privateSubnetIds: orOutput(z.array(z.string()).min(2)),
          publicSubnetIds: orOutput(z.array(z.string()).min(2)),
        })
        .strict(),
    ]),
    /** Host name people open; the certificate must name it. */
    domainName: z
      .string()
      .regex(/^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "domainName must be a host name"),
    /** ACM certificate for domainName, in the portal's region. */
    certificateArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/,
        "certificateArn must be an ACM ARN",
      ),
    /** Route 53 zone of domainName: an alias record to the ALB is created there. Optional. */
    hostedZoneId: z
      .string()
      .regex(/^Z[A-Z0-9]{1,31}$/)
      .optional(),
    /** The company's OpenID Provider, used by the ALB's sign-in (authenticate-oidc). */
    oidc: z
      .object({
        issuer: https("oidc.issuer"),
        authorizationEndpoint: https("oidc.authorizationEndpoint"),
        tokenEndpoint: https("oidc.tokenEndpoint"),
        userInfoEndpoint: https("oidc.userInfoEndpoint"),
        /** (The client secret is a separate, secret input: see PortalOnAws.) */
        clientId: z.string().min(1, "oidc.clientId is required"),
        scope: z.string().default("openid email profile"),
        /** Seconds a sign-in lasts before the ALB asks the provider again. */
        sessionTimeout: z.number().int().min(300).max(604800).default(28800),
      })
      .strict(),
    /** Regions the portal offers for environments (the worker's role is limited to them). */
    environmentRegions: z.array(awsRegionSchema).min(1, "environmentRegions needs at least one region"),
    web: service({ cpu: 512, memory: 1024, min: 2, max: 6 }),
    /** Workers run Pulumi (CPU and memory hungry): bigger tasks. */
    worker: service({ cpu: 1024, memory: 2048, min: 1, max: 4 }),
    /** Operations one worker task runs at once. */
    workerConcurrency: z.number().int().min(1).max(16).default(4),
    database: z
      .object({
        instanceClass: z
          .string()
          .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/)
          .default("db.t4g.small"),
        engineVersion: z.string().default("17"),
        allocatedStorageGb: z.number().int().min(20).max(65536).default(20),
        /** Storage autoscaling ceiling. */
        maxAllocatedStorageGb: z.number().int().min(20).max(65536).default(100),
        backupRetentionDays: z.number().int().min(1).max(35).default(7),
        multiAz: z.boolean().default(false),
        deletionProtection: z.boolean().default(true),
        /**
         * Rotate the managed password every N days. Off by default: tasks read it at start, so a rotation
         * needs both services redeployed (`aws ecs update-service --force-new-deployment`) right after.
         */
        passwordRotationDays: z.number().int().min(1).max(365).optional(),
      })
      .strict()
      .prefault({}),
    logRetentionDays: z.number().int().default(30),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.database.maxAllocatedStorageGb < a.database.allocatedStorageGb) {
      ctx.addIssue({
        code: "custom",
        path: ["database", "maxAllocatedStorageGb"],
        message: "maxAllocatedStorageGb must be at least allocatedStorageGb",
      });
    }
  });

export type PortalArgs = z.input<typeof portalArgsSchema>;
export type ValidPortalArgs = z.output<typeof portalArgsSchema>;

export class PortalArgsError extends Error {
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`Invalid portal arguments: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`);
    this.name = "PortalArgsError";
  }
}

export function parsePortalArgs(args: unknown): ValidPortalArgs {
  const parsed = portalArgsSchema.safeParse(args);
  if (!parsed.success) {
    throw new PortalArgsError(
      parsed.error.issues.map((i) => ({ path: i.path.join(".") || "(args)", message: i.message })),
    );
  }
  return parsed.data;
}

/**
 * The portal's settings for `AUTH_MODE=proxy-jwt` behind the ALB's OIDC action (apps/portal/README.md, "Run it
 * for your company"): the ALB signs the user's claims into `x-amzn-oidc-data` (ES256; the public key of each key
 * id is at PROXY_JWT_PEM_KEY_URL with {kid}; the token's header names the signing ALB in `signer`, checked against
 * PROXY_JWT_ALB_ARN; ALB tokens carry no `aud`).
 */
export const PROXY_JWT_ENV = {
  mode: "AUTH_MODE",
  header: "PROXY_JWT_HEADER",
  keysUrl: "PROXY_JWT_PEM_KEY_URL",
  algorithms: "PROXY_JWT_ALGORITHMS",
  issuer: "PROXY_JWT_ISSUER",
  signer: "PROXY_JWT_ALB_ARN",
  publicUrl: "PUBLIC_URL",
} as const;

/** Where the ALB publishes its signing keys in `region` (GovCloud keeps them in an S3 bucket). */
export function albKeysUrl(region: string): string {
  return region.startsWith("us-gov-")
    ? `https://s3-${region}.amazonaws.com/aws-elb-public-keys-prod-${region}/{kid}`
    : `https://public-keys.auth.elb.${region}.amazonaws.com/{kid}`;
}
