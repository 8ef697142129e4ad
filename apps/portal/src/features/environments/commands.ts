// What people ask of environments: validate, check the action is possible now, record it, enqueue it.
// Never waits for Pulumi. Free of Next.js so the worker tests and the benchmark can call it directly.
import { Prisma, type PrismaClient } from "@platform/db/client";
import type { EnvironmentSpec } from "@platform/infra/types";
import type PgBoss from "pg-boss";
import { enqueueOperation } from "../../server/queue";
import type {
  CreateEnvironmentInput,
  DestroyEnvironmentInput,
  EnvironmentActionInput,
  ScaleEnvironmentInput,
} from "../../shared/environment-schemas";
import { type EnvironmentAction, type OperationKind, refusal } from "../../shared/status";

export interface CommandContext {
  db: PrismaClient;
  boss: PgBoss;
  user: string;
}

/**
 * What an operation is asked to make real: the operations' own spec (one contract, validated by
 * `environmentSpecSchema` of @platform/infra when the worker runs it), stored on each operation as is.
 */
export type RequestedConfig = EnvironmentSpec;

export type CommandResult =
  | { ok: true; environment: string; operationId?: string; message: string; duplicate?: boolean }
  | { ok: false; code: "not-found" | "refused" | "conflict"; message: string; field?: string };

const isUniqueViolation = (e: unknown, field?: string) =>
  e instanceof Prisma.PrismaClientKnownRequestError &&
  e.code === "P2002" &&
  (!field || JSON.stringify(e.meta ?? {}).includes(field));

const notFound = (name: string): CommandResult => ({
  ok: false,
  code: "not-found",
  message: `There is no environment named “${name}”. It may have been removed.`,
});

async function loadState(ctx: CommandContext, name: string) {
  const env = await ctx.db.environment.findUnique({ where: { name }, include: { lastOperation: true } });
  if (!env) return null;
  const everStarted =
    (await ctx.db.operation.count({ where: { environmentId: env.id, startedAt: { not: null } } })) > 0;
  return {
    env,
    state: {
      status: env.status,
      lastOperationStatus: env.lastOperation?.status ?? null,
      lastOperationKind: env.lastOperation?.kind ?? null,
      everStarted,
      expired: env.expiresAt !== null && env.expiresAt.getTime() <= Date.now(),
    },
  };
}

/** Records an operation (and makes it the environment's last) and enqueues it. */
async function recordOperation(
  ctx: CommandContext,
  env: { id: string; name: string },
  kind: OperationKind,
  requestedConfig: RequestedConfig,
  idempotencyKey: string,
  extra: { retryOfId?: string; desired?: { frontend: number; redis: number } } = {},
): Promise<CommandResult> {
  const { id: environmentId, name: environmentName } = env;
  let operationId: string;
  try {
    operationId = await ctx.db.$transaction(async (tx) => {
      const op = await tx.operation.create({
        data: {
          environmentId,
          kind,
          requestedConfig: requestedConfig as unknown as Prisma.InputJsonValue,
          requestedBy: ctx.user,
          idempotencyKey,
          retryOfId: extra.retryOfId,
        },
      });
      await tx.environment.update({
        where: { id: environmentId },
        data: {
          lastOperationId: op.id,
          ...(extra.desired
            ? { desiredFrontendReplicas: extra.desired.frontend, desiredRedisReplicas: extra.desired.redis }
            : {}),
        },
      });
      return op.id;
    });
  } catch (e) {
    if (isUniqueViolation(e, "idempotency_key")) {
      const existing = await ctx.db.operation.findUnique({ where: { idempotencyKey } });
      return accepted(environmentName, "Already requested.", existing?.id, true);
    }
    // The partial unique index: another operation became active between our check and insert.
    if (isUniqueViolation(e)) {
      return {
        ok: false,
        code: "conflict",
        message: "Another operation on this environment was just requested.",
      };
    }
    throw e;
  }
  await enqueueOperation(ctx.boss, operationId, environmentName);
  return accepted(environmentName, `${kind[0]?.toUpperCase()}${kind.slice(1)} requested.`, operationId);
}

export function configOf(env: {
  name: string;
  target: "local" | "aws";
  region: string | null;
  owner: string;
  desiredFrontendReplicas: number;
  desiredRedisReplicas: number;
}): RequestedConfig {
  return {
    name: env.name,
    target: env.target,
    frontendReplicas: env.desiredFrontendReplicas,
    redisReplicas: env.desiredRedisReplicas,
    owner: env.owner,
    ...(env.target === "aws" && env.region ? { aws: { region: env.region } } : {}),
  };
}

export async function createEnvironment(
  ctx: CommandContext,
  input: CreateEnvironmentInput,
): Promise<CommandResult> {
  // A double submit carries the same key: return the environment the first submit created.
  const again = await ctx.db.environment.findUnique({ where: { idempotencyKey: input.idempotencyKey } });
  if (again) return accepted(again.name, "Already requested.", undefined, true);

  let env: Parameters<typeof configOf>[0] & { id: string };
  try {
    env = await ctx.db.environment.create({
      data: {
        name: input.name,
        target: input.target,
        region: input.target === "aws" ? (input.region ?? null) : null,
        owner: ctx.user,
        desiredFrontendReplicas: input.frontendReplicas,
        desiredRedisReplicas: input.redisReplicas,
        expiresAt: input.ttlHours ? new Date(Date.now() + input.ttlHours * 3600_000) : null,
        idempotencyKey: input.idempotencyKey,
      },
    });
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    // Concurrent double submits race on both unique keys; the key decides whether this is the same request.
    const first = await ctx.db.environment.findUnique({ where: { idempotencyKey: input.idempotencyKey } });
    if (first) return accepted(first.name, "Already requested.", undefined, true);
    return {
      ok: false,
      code: "conflict",
      field: "name",
      message: `The name “${input.name}” is taken. Choose another.`,
    };
  }
  return await recordOperation(ctx, env, "create", configOf(env), input.idempotencyKey);
}

type Loaded = NonNullable<Awaited<ReturnType<typeof loadState>>>;

/**
 * The common path of every command on an existing environment: unknown name → not-found; a key seen before →
 * the earlier answer (double submit); an action impossible in the current state → refused with the reason.
 */
async function guarded(
  ctx: CommandContext,
  input: { name: string; idempotencyKey?: string },
  action: EnvironmentAction,
  run: (loaded: Loaded) => Promise<CommandResult>,
): Promise<CommandResult> {
  const loaded = await loadState(ctx, input.name);
  if (!loaded) return notFound(input.name);
  if (input.idempotencyKey) {
    const already = await ctx.db.operation.findUnique({ where: { idempotencyKey: input.idempotencyKey } });
    if (already) return accepted(input.name, "Already requested.", already.id, true);
  }
  const why = refusal(action, loaded.state);
  if (why) return { ok: false, code: "refused", message: why };
  return await run(loaded);
}

const accepted = (environment: string, message: string, operationId?: string, duplicate?: boolean) =>
  ({ ok: true, environment, operationId, message, ...(duplicate ? { duplicate } : {}) }) as const;

/** The environment's configuration with the replica counts of a scale or preview request. */
const scaledConfig = (env: Loaded["env"], input: ScaleEnvironmentInput): RequestedConfig => ({
  ...configOf(env),
  frontendReplicas: input.frontendReplicas,
  redisReplicas: input.redisReplicas,
});

export async function scaleEnvironment(
  ctx: CommandContext,
  input: ScaleEnvironmentInput,
): Promise<CommandResult> {
  return await guarded(ctx, input, "scale", async ({ env }) => {
    if (
      env.desiredFrontendReplicas === input.frontendReplicas &&
      env.desiredRedisReplicas === input.redisReplicas &&
      env.status === "ready"
    ) {
      return {
        ok: false,
        code: "refused",
        message: "Nothing to change: those are the current replica counts.",
      };
    }
    return await recordOperation(ctx, env, "scale", scaledConfig(env, input), input.idempotencyKey, {
      desired: { frontend: input.frontendReplicas, redis: input.redisReplicas },
    });
  });
}

/** Asks the worker what a scale to these counts would change (Pulumi preview); changes nothing. */
export async function previewScale(
  ctx: CommandContext,
  input: ScaleEnvironmentInput,
): Promise<CommandResult> {
  return await guarded(ctx, input, "preview", ({ env }) =>
    recordOperation(ctx, env, "preview", scaledConfig(env, input), input.idempotencyKey),
  );
}

export async function refreshEnvironment(
  ctx: CommandContext,
  input: EnvironmentActionInput,
): Promise<CommandResult> {
  return await guarded(ctx, input, "refresh", ({ env }) =>
    recordOperation(ctx, env, "refresh", configOf(env), input.idempotencyKey),
  );
}

export async function destroyEnvironment(
  ctx: CommandContext,
  input: DestroyEnvironmentInput,
): Promise<CommandResult> {
  return await guarded(ctx, input, "destroy", ({ env }) =>
    recordOperation(ctx, env, "destroy", configOf(env), input.idempotencyKey),
  );
}

export async function retryOperation(
  ctx: CommandContext,
  input: EnvironmentActionInput,
): Promise<CommandResult> {
  return await guarded(ctx, input, "retry", async ({ env }) => {
    const last = env.lastOperation;
    if (!last) return { ok: false, code: "refused", message: "Nothing to retry." };
    const config = last.requestedConfig as unknown as RequestedConfig;
    return await recordOperation(ctx, env, last.kind, config, input.idempotencyKey, { retryOfId: last.id });
  });
}

/** A queued operation is cancelled at once; a running one is asked to stop (the worker aborts it). */
export async function cancelOperation(
  ctx: CommandContext,
  input: EnvironmentActionInput,
): Promise<CommandResult> {
  return await guarded(ctx, { name: input.name }, "cancel", async ({ env }) => {
    const opId = env.lastOperationId as string;
    const dequeued = await ctx.db.operation.updateMany({
      where: { id: opId, status: "queued" },
      data: {
        status: "cancelled",
        finishedAt: new Date(),
        cancelRequested: true,
        error: `cancelled by ${ctx.user}`,
      },
    });
    if (dequeued.count === 1 && env.lastOperation?.kind === "preview") {
      return accepted(env.name, "The queued preview was cancelled.", opId);
    }
    if (dequeued.count === 1) {
      // Never started: a queued create leaves nothing behind; others leave the environment as it was.
      const previous = await ctx.db.operation.findFirst({
        where: { environmentId: env.id, status: "succeeded", kind: { not: "preview" } },
        orderBy: { createdAt: "desc" },
      });
      await ctx.db.environment.update({
        where: { id: env.id },
        data: { status: previous ? (previous.kind === "destroy" ? "destroyed" : "ready") : "failed" },
      });
      return accepted(env.name, "The queued operation was cancelled.", opId);
    }
    await ctx.db.operation.updateMany({
      where: { id: opId, status: "running" },
      data: { cancelRequested: true },
    });
    return accepted(env.name, "Cancelling: the running operation is being stopped.", opId);
  });
}

export async function removeEnvironment(
  ctx: CommandContext,
  input: EnvironmentActionInput,
): Promise<CommandResult> {
  return await guarded(ctx, { name: input.name }, "remove", async ({ env }) => {
    await ctx.db.environment.delete({ where: { id: env.id } });
    return accepted(env.name, `The record of “${env.name}” was removed.`);
  });
}
