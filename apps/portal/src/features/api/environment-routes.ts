// /api/v1/environments: the pages' commands (commands.ts) behind the API. Each write parses the body with the
// pages' own schema, runs the same command with the token's Principal (authorisation, state, quotas, rate
// limit, audit, queue all happen there) and answers with the environment and the operation it requested.
import type { Prisma } from "@platform/db/client";
import { z } from "zod";
import { config } from "../../server/env";
import { quotasFrom, rateLimiters } from "../../server/limits";
import { sender } from "../../server/sender";
import {
  createEnvironmentSchema,
  destroyEnvironmentSchema,
  environmentActionSchema,
  existingEnvironmentNameSchema,
  scaleEnvironmentSchema,
} from "../../shared/environment-schemas";
import { ENVIRONMENT_STATUSES } from "../../shared/status";
import {
  type CommandContext,
  type CommandResult,
  cancelOperation,
  createEnvironment,
  destroyEnvironment,
  previewScale,
  reconcileEnvironment,
  refreshEnvironment,
  removeEnvironment,
  retryOperation,
  scaleEnvironment,
} from "../environments/commands";
import { getEnvironment, PAGE_SIZE } from "../environments/queries";
import { type ApiContext, type ApiReply, defineRoute, type RequestBody } from "./contract";
import { ApiError, commandError, invalidInput } from "./errors";
import { API_BASE, environmentPath, operationPath, presentEnvironment, presentOperation } from "./present";

// An existing environment's name: the syntax only (one made before a word was reserved stays reachable).
export const nameParams = z.object({ name: existingEnvironmentNameSchema });

const booleanParam = z
  .enum(["true", "false", "1", "0"], { message: "Use true or false." })
  .transform((v) => v === "true" || v === "1");

export const listQuery = z.object({
  status: z
    .enum(["active", "all", ...ENVIRONMENT_STATUSES], {
      message: `One of active, all, ${ENVIRONMENT_STATUSES.join(", ")}.`,
    })
    .default("active")
    .describe("active (default: all but destroyed), all, or one status"),
  mine: booleanParam.optional().describe("Only the caller's own environments"),
  page: z.coerce
    .number({ message: "A page number." })
    .int("A whole page number.")
    .min(1, "Pages start at 1.")
    .max(10_000)
    .default(1),
});

const commandContext = async (ctx: ApiContext): Promise<CommandContext> => ({
  db: ctx.db,
  boss: await sender(),
  principal: ctx.principal,
  address: ctx.address,
  quotas: quotasFrom(config()),
  rateLimiter: rateLimiters().actions,
});

/** The command's input: the body people sent plus what the API supplies (name, idempotency key, ...). */
function commandInput(
  ctx: ApiContext,
  body: RequestBody,
  sent: Record<string, unknown>,
  supplied: Record<string, unknown>,
) {
  const base = body.schema(ctx.limits);
  const schema = (body.extra ? base.extend(body.extra.shape) : base).strict();
  const parsed = schema.safeParse({ ...sent, ...supplied });
  if (!parsed.success) throw invalidInput(parsed.error);
  return parsed.data as Record<string, unknown>;
}

/** The answer to an accepted command: the environment now and the operation requested. */
async function answer(ctx: ApiContext, result: CommandResult, status: 200 | 202 = 202): Promise<ApiReply> {
  if (!result.ok) throw commandError(result);
  const env = await getEnvironment(result.environment);
  const op = result.operationId
    ? await ctx.db.operation.findUnique({ where: { id: result.operationId } })
    : await ctx.db.operation.findUnique({ where: { idempotencyKey: ctx.commandKey } });
  return {
    status,
    body: {
      message: result.message,
      environment: env ? presentEnvironment(env) : null,
      operation: op ? presentOperation(result.environment, op) : null,
    },
    headers: {
      location: op ? operationPath(result.environment, op.id) : environmentPath(result.environment),
      ...(result.duplicate ? { "idempotent-replayed": "true" } : {}),
    },
  };
}

const createBody: RequestBody = { schema: createEnvironmentSchema, supplied: ["idempotencyKey"] };
const scaleBody: RequestBody = {
  schema: scaleEnvironmentSchema,
  extra: z.object({
    preview: z
      .boolean({ message: "preview is true or false." })
      .optional()
      .describe("true: only preview what the scale would change (a Pulumi preview); nothing changes"),
  }),
  supplied: ["name", "idempotencyKey"],
};
const actionBody: RequestBody = {
  schema: () => environmentActionSchema,
  supplied: ["name", "idempotencyKey"],
  optional: true,
};
const destroyBody: RequestBody = {
  schema: () => destroyEnvironmentSchema,
  supplied: ["name", "idempotencyKey", "confirmation"],
  optional: true,
};

export const listEnvironmentsRoute = defineRoute({
  method: "get",
  path: "/environments",
  operationId: "listEnvironments",
  summary: "List environments",
  description: `Newest first, ${PAGE_SIZE} per page. Every role may read every environment.`,
  tag: "Environments",
  scope: "read",
  query: listQuery,
  success: { status: 200, description: "A page of environments", schema: "EnvironmentList" },
  errors: ["invalid"],
  async handle(ctx, { query }) {
    const q = query as z.output<typeof listQuery>;
    // The list page's filters (status, mine), with every field of the last operation.
    const where: Prisma.EnvironmentWhereInput = { deletedAt: null };
    if (q.status === "active") where.status = { not: "destroyed" };
    else if (q.status !== "all") where.status = q.status;
    if (q.mine) where.owner = ctx.principal.id;
    const [items, total] = await Promise.all([
      ctx.db.environment.findMany({
        where,
        include: { lastOperation: true },
        orderBy: [{ createdAt: "desc" }, { id: "asc" }],
        take: PAGE_SIZE,
        skip: (q.page - 1) * PAGE_SIZE,
      }),
      ctx.db.environment.count({ where }),
    ]);
    const more = q.page * PAGE_SIZE < total;
    const next = new URLSearchParams({
      status: q.status,
      ...(q.mine ? { mine: "true" } : {}),
      page: String(q.page + 1),
    });
    return {
      status: 200,
      body: {
        items: items.map(presentEnvironment),
        total,
        page: q.page,
        pageSize: PAGE_SIZE,
        next: more ? `${API_BASE}/environments?${next}` : null,
      },
    };
  },
});

export const getEnvironmentRoute = defineRoute({
  method: "get",
  path: "/environments/{name}",
  operationId: "getEnvironment",
  summary: "Get an environment",
  tag: "Environments",
  scope: "read",
  params: nameParams,
  success: { status: 200, description: "The environment", schema: "Environment" },
  errors: ["not-found"],
  async handle(_ctx, { params }) {
    const env = await getEnvironment(params.name as string);
    if (!env) {
      throw new ApiError(
        "not-found",
        `There is no environment named “${params.name}”. It may have been removed.`,
      );
    }
    return { status: 200, body: presentEnvironment(env) };
  },
});

export const createEnvironmentRoute = defineRoute({
  method: "post",
  path: "/environments",
  operationId: "createEnvironment",
  summary: "Create an environment",
  description:
    "Validated with the create form's schema; quotas apply (environments per person, team and portal, replicas per environment, a time-to-live for members). The create runs in the background: follow the returned operation.",
  tag: "Environments",
  scope: "write",
  body: createBody,
  success: { status: 202, description: "Create requested", schema: "CommandAnswer" },
  errors: ["invalid", "forbidden", "quota", "conflict", "idempotency-key-reused"],
  async handle(ctx, { body }) {
    const input = commandInput(ctx, createBody, body, { idempotencyKey: ctx.commandKey });
    return await answer(
      ctx,
      await createEnvironment(await commandContext(ctx), input as Parameters<typeof createEnvironment>[1]),
    );
  },
});

export const scaleEnvironmentRoute = defineRoute({
  method: "post",
  path: "/environments/{name}/scale",
  operationId: "scaleEnvironment",
  summary: "Scale an environment",
  description:
    "Sets the replica counts of both tiers. With `preview: true` a Pulumi preview reports what would change (the operation's `changes`) and nothing changes.",
  tag: "Environments",
  scope: "write",
  params: nameParams,
  body: scaleBody,
  success: { status: 202, description: "Scale (or preview) requested", schema: "CommandAnswer" },
  errors: ["invalid", "not-found", "forbidden", "quota", "refused", "conflict", "idempotency-key-reused"],
  async handle(ctx, { params, body }) {
    const input = commandInput(ctx, scaleBody, body, {
      name: params.name,
      idempotencyKey: ctx.commandKey,
    }) as Parameters<typeof scaleEnvironment>[1] & { preview?: boolean };
    const { preview, ...scale } = input;
    const command = preview ? previewScale : scaleEnvironment;
    return await answer(ctx, await command(await commandContext(ctx), scale));
  },
});

/** Refresh, reconcile, retry, cancel, destroy and remove: a path and (optionally) an empty body. */
function actionRoute(
  action: "refresh" | "reconcile" | "retry" | "cancel" | "destroy" | "remove",
  summary: string,
  description: string,
  run: (ctx: CommandContext, input: never) => Promise<CommandResult>,
) {
  const body = action === "destroy" ? destroyBody : actionBody;
  return defineRoute({
    method: "post",
    path: `/environments/{name}/${action}`,
    operationId: `${action}Environment`,
    summary,
    description,
    tag: "Environments",
    scope: "write",
    params: nameParams,
    body,
    success:
      action === "remove"
        ? { status: 200, description: "The record was removed", schema: "CommandAnswer" }
        : { status: 202, description: `${summary}: requested`, schema: "CommandAnswer" },
    errors: ["invalid", "not-found", "forbidden", "refused", "conflict", "idempotency-key-reused"],
    async handle(ctx, { params, body: sent }) {
      const input = commandInput(ctx, body, sent, {
        name: params.name,
        idempotencyKey: ctx.commandKey,
        ...(action === "destroy" ? { confirmation: params.name } : {}),
      });
      return await answer(
        ctx,
        await run(await commandContext(ctx), input as never),
        action === "remove" ? 200 : 202,
      );
    },
  });
}

export const refreshEnvironmentRoute = actionRoute(
  "refresh",
  "Refresh an environment",
  "Reads the real resources back into the environment's state (Pulumi refresh).",
  refreshEnvironment,
);
export const reconcileEnvironmentRoute = actionRoute(
  "reconcile",
  "Reconcile an environment",
  "Makes the environment what was asked for again (a Pulumi up with the requested counts and options), e.g. after drift or a refresh that found parts gone.",
  reconcileEnvironment,
);
export const retryEnvironmentRoute = actionRoute(
  "retry",
  "Retry the last operation",
  "Runs the last failed, cancelled or interrupted operation again, with the same request.",
  retryOperation,
);
export const cancelEnvironmentRoute = actionRoute(
  "cancel",
  "Cancel the running operation",
  "A queued operation is cancelled at once; a running one is asked to stop.",
  cancelOperation,
);
export const destroyEnvironmentRoute = actionRoute(
  "destroy",
  "Destroy an environment",
  "Tears down every resource of the environment. The record stays (status destroyed) until removed.",
  destroyEnvironment,
);
export const removeEnvironmentRoute = actionRoute(
  "remove",
  "Remove an environment's record",
  "Only once it is destroyed (or never started). The audit log keeps its history; the name is free again.",
  removeEnvironment,
);
