// The API's answers as zod schemas: the OpenAPI document is generated from them (openapi.ts) and the tests
// check real answers against them. Request bodies are the pages' own schemas (shared/environment-schemas.ts).
import { z } from "zod";
import { ENVIRONMENT_STATUSES, OPERATION_STATUSES } from "../../shared/status";
import { TOKEN_SCOPES } from "../../shared/token-schemas";
import { API_ERROR_CODES } from "./errors";

const timestamp = z.string().datetime({ offset: true }).describe("RFC 3339 time (UTC)");

export const OPERATION_KINDS = [
  "create",
  "scale",
  "refresh",
  "destroy",
  "preview",
  "reconcile",
  "repair",
] as const;

export const errorSchema = z
  .object({
    code: z.enum(API_ERROR_CODES as [string, ...string[]]).describe("Stable, machine-readable reason"),
    message: z.string().describe("What happened and what to do, for people"),
    field: z.string().optional().describe("The request field it is about"),
    fields: z.record(z.string(), z.string()).optional().describe("Every invalid field and its message"),
  })
  .describe("Every error has this shape; the status code follows from `code`.");

const replicas = z.object({
  desired: z.number().int().describe("What was last asked for"),
  current: z.number().int().nullable().describe("What the last successful create/scale deployed"),
});

export const operationSchema = z.object({
  id: z.string().uuid(),
  environment: z.string(),
  kind: z
    .enum(OPERATION_KINDS)
    .describe(
      "`preview` reports what a scale would change and changes nothing; `reconcile` makes a drifted environment what was asked again; `repair` records what the local target's supervisor replaced by itself",
    ),
  status: z.enum(OPERATION_STATUSES),
  requestedBy: z.string(),
  createdAt: timestamp,
  startedAt: timestamp.nullable(),
  finishedAt: timestamp.nullable(),
  progress: z.object({
    done: z.number().int(),
    expected: z.number().int().describe("0 while unknown"),
  }),
  error: z.object({ code: z.string().nullable(), message: z.string() }).nullable(),
  retryOf: z.string().uuid().nullable(),
  frontendReplicas: z.number().int().describe("What this operation asked for"),
  redisReplicas: z.number().int(),
  changes: z
    .record(z.string(), z.number())
    .nullable()
    .describe("Resource changes by kind (a preview: what a scale would do), e.g. { create: 2, same: 9 }"),
  links: z.object({ self: z.string(), events: z.string(), stream: z.string() }),
});

export const environmentSchema = z.object({
  name: z.string(),
  target: z.enum(["local", "aws"]),
  region: z.string().nullable(),
  status: z.enum(ENVIRONMENT_STATUSES),
  owner: z.string(),
  team: z.string().nullable(),
  frontendReplicas: replicas,
  redisReplicas: replicas,
  frontendUrl: z.string().nullable().describe("The voting app's address once deployed"),
  outputs: z.record(z.string(), z.unknown()).nullable().describe("The stack's outputs"),
  options: z
    .record(z.string(), z.unknown())
    .describe("The cache and database options as created ({ cache?, database? }; {}: the defaults)"),
  allowVoteReset: z.boolean(),
  createdAt: timestamp,
  expiresAt: timestamp.nullable().describe("When its time-to-live destroys it (null: never)"),
  lastOperation: operationSchema.nullable(),
  links: z.object({ self: z.string(), operations: z.string(), page: z.string() }),
});

export const environmentListSchema = z.object({
  items: z.array(environmentSchema),
  total: z.number().int(),
  page: z.number().int(),
  pageSize: z.number().int(),
  next: z.string().nullable().describe("The next page's URL, or null on the last page"),
});

export const operationListSchema = z.object({ items: z.array(operationSchema) });

export const eventSchema = z.object({
  id: z.string().describe("Increasing; resume after it with ?after= (or Last-Event-ID on the stream)"),
  type: z.string().describe("resource | diagnostic | progress | log | notice | status"),
  severity: z.string().nullable(),
  message: z.string(),
  at: timestamp,
});

export const eventListSchema = z.object({
  items: z.array(eventSchema),
  next: z.string().nullable().describe("Pass as ?after= for the following events (null: none yet)"),
  operation: z.object({ status: z.enum(OPERATION_STATUSES), done: z.boolean() }),
});

export const commandAnswerSchema = z.object({
  message: z.string(),
  environment: environmentSchema.nullable().describe("The environment as it is now (null after remove)"),
  operation: operationSchema.nullable().describe("The operation requested (null for remove)"),
});

export const meSchema = z.object({
  id: z.string().describe("The owner key: e-mail, else the identity provider's subject"),
  name: z.string(),
  role: z.enum(["admin", "member", "viewer"]),
  teams: z.array(z.string()),
  token: z.object({
    id: z.string().uuid(),
    name: z.string(),
    prefix: z.string(),
    scope: z.enum(TOKEN_SCOPES),
    expiresAt: timestamp,
  }),
  limits: z.object({
    frontendReplicas: z.object({ min: z.number().int(), max: z.number().int(), default: z.number().int() }),
    redisReplicas: z.object({ min: z.number().int(), max: z.number().int(), default: z.number().int() }),
    replicasPerEnvironment: z.number().int(),
    maxTtlHours: z.number().int(),
    defaultTtlHours: z.number().int(),
    ttlRequired: z.boolean().describe("Members must set a time-to-live; admins may leave it out (never)"),
    awsRegions: z.array(z.string()),
  }),
});

export type ApiEnvironment = z.infer<typeof environmentSchema>;
export type ApiOperation = z.infer<typeof operationSchema>;
export type ApiEvent = z.infer<typeof eventSchema>;
