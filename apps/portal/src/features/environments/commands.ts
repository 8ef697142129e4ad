// What people ask of environments: validate, check the action is possible now, record it, enqueue it.
// Never waits for Pulumi. Free of Next.js so the worker tests and the benchmark can call it directly.
import { Prisma, type PrismaClient } from "@platform/db/client";
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

/** The spec handed to the operations (EnvironmentSpec of @platform/infra), stored on each operation. */
export interface RequestedConfig {
  name: string;
  target: "local" | "aws";
  frontendReplicas: number;
  redisReplicas: number;
  owner: string;
  aws?: { region: string };
}

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
    },
  };
}

/** Records an operation (and makes it the environment's last) and enqueues it. */
async function recordOperation(
  ctx: CommandContext,
  environmentId: string,
  environmentName: string,
  kind: OperationKind,
  requestedConfig: RequestedConfig,
  idempotencyKey: string,
  extra: { retryOfId?: string; desired?: { frontend: number; redis: number } } = {},
): Promise<CommandResult> {
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
      return {
        ok: true,
        environment: environmentName,
        operationId: existing?.id,
        duplicate: true,
        message: "Already requested.",
      };
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
  return {
    ok: true,
    environment: environmentName,
    operationId,
    message: `${kind[0]?.toUpperCase()}${kind.slice(1)} requested.`,
  };
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
  if (again) return { ok: true, environment: again.name, duplicate: true, message: "Already requested." };

  let env: { id: string; name: string };
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
    if (first) return { ok: true, environment: first.name, duplicate: true, message: "Already requested." };
    return {
      ok: false,
      code: "conflict",
      field: "name",
      message: `The name “${input.name}” is taken. Choose another.`,
    };
  }
  const config: RequestedConfig = {
    name: input.name,
    target: input.target,
    frontendReplicas: input.frontendReplicas,
    redisReplicas: input.redisReplicas,
    owner: ctx.user,
    ...(input.target === "aws" && input.region ? { aws: { region: input.region } } : {}),
  };
  return await recordOperation(ctx, env.id, env.name, "create", config, input.idempotencyKey);
}

async function guarded(
  ctx: CommandContext,
  name: string,
  action: EnvironmentAction,
  run: (loaded: NonNullable<Awaited<ReturnType<typeof loadState>>>) => Promise<CommandResult>,
  idempotencyKey: string,
): Promise<CommandResult> {
  const loaded = await loadState(ctx, name);
  if (!loaded) return notFound(name);
  if (idempotencyKey) {
    const already = await ctx.db.operation.findUnique({ where: { idempotencyKey } });
    if (already)
      return {
        ok: true,
        environment: name,
        operationId: already.id,
        duplicate: true,
        message: "Already requested.",
      };
  }
  const why = refusal(action, loaded.state);
  if (why) return { ok: false, code: "refused", message: why };
  return await run(loaded);
}

export async function scaleEnvironment(
  ctx: CommandContext,
  input: ScaleEnvironmentInput,
): Promise<CommandResult> {
  return await guarded(
    ctx,
    input.name,
    "scale",
    async ({ env }) => {
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
      const config = {
        ...configOf(env),
        frontendReplicas: input.frontendReplicas,
        redisReplicas: input.redisReplicas,
      };
      return await recordOperation(ctx, env.id, env.name, "scale", config, input.idempotencyKey, {
        desired: { frontend: input.frontendReplicas, redis: input.redisReplicas },
      });
    },
    input.idempotencyKey,
  );
}

/** Asks the worker what a scale to these counts would change (Pulumi preview); changes nothing. */
export async function previewScale(
  ctx: CommandContext,
  input: ScaleEnvironmentInput,
): Promise<CommandResult> {
  return await guarded(
    ctx,
    input.name,
    "preview",
    async ({ env }) => {
      const config = {
        ...configOf(env),
        frontendReplicas: input.frontendReplicas,
        redisReplicas: input.redisReplicas,
      };
      return await recordOperation(ctx, env.id, env.name, "preview", config, input.idempotencyKey);
    },
    input.idempotencyKey,
  );
}

export async function refreshEnvironment(
  ctx: CommandContext,
  input: EnvironmentActionInput,
): Promise<CommandResult> {
  return await guarded(
    ctx,
    input.name,
    "refresh",
    ({ env }) => recordOperation(ctx, env.id, env.name, "refresh", configOf(env), input.idempotencyKey),
    input.idempotencyKey,
  );
}

export async function destroyEnvironment(
  ctx: CommandContext,
  input: DestroyEnvironmentInput,
): Promise<CommandResult> {
  return await guarded(
    ctx,
    input.name,
    "destroy",
    ({ env }) => recordOperation(ctx, env.id, env.name, "destroy", configOf(env), input.idempotencyKey),
    input.idempotencyKey,
  );
}

export async function retryOperation(
  ctx: CommandContext,
  input: EnvironmentActionInput,
): Promise<CommandResult> {
  return await guarded(
    ctx,
    input.name,
    "retry",
    async ({ env }) => {
      const last = env.lastOperation;
      if (!last) return { ok: false, code: "refused", message: "Nothing to retry." };
      return await recordOperation(
        ctx,
        env.id,
        env.name,
        last.kind,
        last.requestedConfig as unknown as RequestedConfig,
        input.idempotencyKey,
        { retryOfId: last.id },
      );
    },
    input.idempotencyKey,
  );
}

/** A queued operation is cancelled at once; a running one is asked to stop (the worker aborts it). */
export async function cancelOperation(
  ctx: CommandContext,
  input: EnvironmentActionInput,
): Promise<CommandResult> {
  return await guarded(
    ctx,
    input.name,
    "cancel",
    async ({ env }) => {
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
        return {
          ok: true,
          environment: env.name,
          operationId: opId,
          message: "The queued preview was cancelled.",
        };
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
        return {
          ok: true,
          environment: env.name,
          operationId: opId,
          message: "The queued operation was cancelled.",
        };
      }
      await ctx.db.operation.updateMany({
        where: { id: opId, status: "running" },
        data: { cancelRequested: true },
      });
      return {
        ok: true,
        environment: env.name,
        operationId: opId,
        message: "Cancelling: the running operation is being stopped.",
      };
    },
    "",
  );
}

export async function removeEnvironment(
  ctx: CommandContext,
  input: EnvironmentActionInput,
): Promise<CommandResult> {
  return await guarded(
    ctx,
    input.name,
    "remove",
    async ({ env }) => {
      await ctx.db.environment.delete({ where: { id: env.id } });
      return { ok: true, environment: env.name, message: `The record of “${env.name}” was removed.` };
    },
    "",
  );
}
