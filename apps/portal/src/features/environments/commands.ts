// What people ask of environments: rate limit, authorise, check the action is possible now and within the
// quotas, record it (with its audit entry), enqueue it. Every refusal is audited with its reason and changes
// nothing else. Never waits for Pulumi. Free of Next.js, so the server actions, the worker (time-to-live), the
// tests and the benchmark all call the same code.
import { Prisma, type PrismaClient } from "@platform/db/client";
import type { EnvironmentSpec } from "@platform/infra/types";
import type PgBoss from "pg-boss";
import { enqueueOperation } from "../../server/queue";
import type { RateLimiter } from "../../server/rate-limit";
import { type AccessAction, type Principal, refusalFor } from "../../shared/access";
import type {
  CreateEnvironmentInput,
  DestroyEnvironmentInput,
  EnvironmentActionInput,
  ScaleEnvironmentInput,
} from "../../shared/environment-schemas";
import { type EnvironmentAction, type RequestableKind, refusal } from "../../shared/status";
import { storedTierOptions, tierOptionsOf } from "../../shared/tier-options";
import { type AuditAction, writeAudit } from "../audit/audit-log";
import { type NetworkSettings, networkJobKey, placeInNetwork } from "../networks/commands";
import { defaultNetworkName } from "../networks/model";

export interface CommandContext {
  db: PrismaClient;
  boss: PgBoss;
  /** Who asks: authorised on every command, recorded as owner, on operations and in the audit log. */
  principal: Principal;
  /** Where the request came from (audit log). */
  address?: string;
  /** Limits of create and scale; absent only for system actors (the workers' time-to-live). */
  quotas?: Quotas;
  /** Requests per identity; absent for system actors and where no limit applies. */
  rateLimiter?: RateLimiter;
  /** How the networks that AWS environments create are made (configuration); default: created, 1 NAT, 2 AZs. */
  networks?: NetworkSettings;
}

/** Configured limits (README "Quotas"), checked inside the create/scale transaction. */
export interface Quotas {
  /** Live (not destroyed, not removed) environments one person owns. */
  environmentsPerPerson: number;
  environmentsPerTeam: number;
  /** Live environments in the whole portal. */
  environmentsTotal: number;
  /** Frontend + Redis replicas of one environment. */
  replicasPerEnvironment: number;
  /** Members must set a time-to-live of at most this; admins may choose none ("never"). */
  maxTtlHours: number;
}

/**
 * What an operation is asked to make real: the operations' own spec (one contract, validated by
 * `environmentSpecSchema` of @platform/infra when the worker runs it), stored on each operation as is.
 */
export type RequestedConfig = EnvironmentSpec;

export type CommandResult =
  | { ok: true; environment: string; operationId?: string; message: string; duplicate?: boolean }
  | {
      ok: false;
      code: "not-found" | "refused" | "conflict" | "forbidden" | "quota" | "rate-limited";
      message: string;
      field?: string;
    };
type Refusal = Extract<CommandResult, { ok: false }>;

const isUniqueViolation = (e: unknown, field?: string) =>
  e instanceof Prisma.PrismaClientKnownRequestError &&
  e.code === "P2002" &&
  (!field || JSON.stringify(e.meta ?? {}).includes(field));

const notFound = (name: string): Refusal => ({
  ok: false,
  code: "not-found",
  message: `There is no environment named “${name}”. It may have been removed.`,
});

/** The audit entry of a command's outcome. */
async function audit(
  ctx: CommandContext,
  action: AuditAction,
  result: CommandResult,
  env?: { name: string; id?: string },
  details?: Record<string, unknown>,
  db: Parameters<typeof writeAudit>[0] = ctx.db,
): Promise<void> {
  await writeAudit(db, {
    actor: ctx.principal,
    action,
    outcome: result.ok ? "accepted" : "refused",
    reason: result.ok ? undefined : result.message,
    environment: env?.name ?? (result.ok ? result.environment : undefined),
    environmentId: env?.id,
    operationId: result.ok ? result.operationId : undefined,
    address: ctx.address,
    details: { ...details, ...(result.ok ? {} : { code: result.code }) },
  });
}

/** A refusal, recorded in the audit log before it is returned. */
async function refuse(
  ctx: CommandContext,
  action: AuditAction,
  refusal: Refusal,
  env?: { name: string; id?: string },
  details?: Record<string, unknown>,
): Promise<Refusal> {
  await audit(ctx, action, refusal, env, details);
  return refusal;
}

/** The per-identity rate limit of commands; null when the request may go on. */
async function rateLimited(ctx: CommandContext): Promise<Refusal | null> {
  const wait = await ctx.rateLimiter?.consume(ctx.principal.id);
  if (!wait) return null;
  return {
    ok: false,
    code: "rate-limited",
    message: `Too many requests: at most ${ctx.rateLimiter?.perMinute} actions a minute per person. Nothing was changed; try again in ${wait} s.`,
  };
}

const forbidden = (ctx: CommandContext, action: AccessAction, env?: Parameters<typeof refusalFor>[2]) => {
  const why = refusalFor(ctx.principal, action, env);
  return why ? ({ ok: false, code: "forbidden", message: why } as Refusal) : null;
};

/** A live environment (removed records are history only). */
export const findLiveEnvironment = (db: PrismaClient, name: string) =>
  db.environment.findFirst({ where: { name, deletedAt: null }, include: { lastOperation: true } });

async function loadState(ctx: CommandContext, name: string) {
  const env = await findLiveEnvironment(ctx.db, name);
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
  kind: RequestableKind,
  requestedConfig: RequestedConfig,
  idempotencyKey: string,
  extra: {
    retryOfId?: string;
    desired?: { frontend: number; redis: number };
    audit?: AuditAction;
    /** Runs first in the transaction; a refusal rolls everything back (quotas). */
    check?: (tx: Prisma.TransactionClient) => Promise<Refusal | null>;
  } = {},
): Promise<CommandResult> {
  const { id: environmentId, name: environmentName } = env;
  const action = extra.audit ?? kind;
  let operationId: string;
  try {
    const outcome = await ctx.db.$transaction(async (tx) => {
      const refused = await extra.check?.(tx);
      if (refused) return refused;
      const op = await tx.operation.create({
        data: {
          environmentId,
          kind,
          requestedConfig: requestedConfig as unknown as Prisma.InputJsonValue,
          requestedBy: ctx.principal.id,
          idempotencyKey,
          retryOfId: extra.retryOfId,
        },
      });
      await audit(
        ctx,
        action,
        accepted(environmentName, "requested", op.id),
        { name: environmentName, id: environmentId },
        {
          kind,
          frontendReplicas: requestedConfig.frontendReplicas,
          redisReplicas: requestedConfig.redisReplicas,
        },
        tx,
      );
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
    if (typeof outcome !== "string") return await refuse(ctx, action, outcome, env);
    operationId = outcome;
  } catch (e) {
    if (isUniqueViolation(e, "idempotency_key")) {
      const existing = await ctx.db.operation.findUnique({ where: { idempotencyKey } });
      return accepted(environmentName, "Already requested.", existing?.id, true);
    }
    // The partial unique index: another operation became active between our check and insert.
    if (isUniqueViolation(e)) {
      return await refuse(
        ctx,
        action,
        { ok: false, code: "conflict", message: "Another operation on this environment was just requested." },
        env,
      );
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
  /** The spec's tier options as stored from the form; sent unchanged (no field-by-field copy). */
  options: unknown;
  allowVoteReset: boolean;
}): RequestedConfig {
  return {
    ...storedTierOptions(env.options),
    name: env.name,
    target: env.target,
    frontendReplicas: env.desiredFrontendReplicas,
    redisReplicas: env.desiredRedisReplicas,
    owner: env.owner,
    // The region's shared network (features/networks): the stack the environment reads its VPC from.
    ...(env.target === "aws" && env.region
      ? { aws: { region: env.region, network: defaultNetworkName(env.region) } }
      : {}),
    ...(env.allowVoteReset ? { app: { allowReset: true } } : {}),
  };
}

/** Serialises quota checks of creates, so two at once cannot both take the last place. */
const QUOTA_LOCK = 0x0e1e_0008;

/** Environments that count against quotas: neither destroyed nor removed. */
const LIVE = { deletedAt: null, status: { not: "destroyed" } } satisfies Prisma.EnvironmentWhereInput;

function replicaQuota(q: Quotas | undefined, frontend: number, redis: number): Refusal | null {
  if (!q || frontend + redis <= q.replicasPerEnvironment) return null;
  return {
    ok: false,
    code: "quota",
    field: "frontendReplicas",
    message: `Quota: at most ${q.replicasPerEnvironment} replicas per environment (frontends + Redis nodes); ${frontend} + ${redis} asked.`,
  };
}

function ttlQuota(ctx: CommandContext, ttlHours: number | undefined): Refusal | null {
  const q = ctx.quotas;
  if (!q) return null;
  if (ttlHours === undefined) {
    if (ctx.principal.role === "admin") return null; // admins may choose "never"
    return {
      ok: false,
      code: "quota",
      field: "ttlHours",
      message: `Members must set a time to live (at most ${q.maxTtlHours} hours); only admins may keep an environment forever.`,
    };
  }
  if (ttlHours > q.maxTtlHours) {
    return {
      ok: false,
      code: "quota",
      field: "ttlHours",
      message: `Time to live: at most ${q.maxTtlHours} hours.`,
    };
  }
  return null;
}

/** Per person, per team and global caps of live environments, counted inside the create transaction. */
async function environmentQuota(
  tx: Prisma.TransactionClient,
  ctx: CommandContext,
  team: string | null,
): Promise<Refusal | null> {
  const q = ctx.quotas;
  if (!q) return null;
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${QUOTA_LOCK})`;
  const refusal = (message: string): Refusal => ({ ok: false, code: "quota", message });
  const own = await tx.environment.count({ where: { ...LIVE, owner: ctx.principal.id } });
  if (own >= q.environmentsPerPerson) {
    return refusal(
      `Quota: you have ${own} environments, at most ${q.environmentsPerPerson} per person. Destroy one first.`,
    );
  }
  if (team) {
    const ofTeam = await tx.environment.count({ where: { ...LIVE, team } });
    if (ofTeam >= q.environmentsPerTeam) {
      return refusal(
        `Quota: team ${team} has ${ofTeam} environments, at most ${q.environmentsPerTeam} per team.`,
      );
    }
  }
  const total = await tx.environment.count({ where: LIVE });
  if (total >= q.environmentsTotal) {
    return refusal(
      `Quota: the portal runs ${total} environments, its limit is ${q.environmentsTotal}. Destroy one first.`,
    );
  }
  return null;
}

export async function createEnvironment(
  ctx: CommandContext,
  input: CreateEnvironmentInput,
): Promise<CommandResult> {
  // A double submit carries the same key: return the environment the first submit created.
  const again = await ctx.db.environment.findUnique({ where: { idempotencyKey: input.idempotencyKey } });
  if (again) return accepted(again.name, "Already requested.", undefined, true);
  const target = { name: input.name };
  const details = {
    target: input.target,
    region: input.region,
    frontendReplicas: input.frontendReplicas,
    redisReplicas: input.redisReplicas,
    ttlHours: input.ttlHours ?? null,
    team: input.team ?? null,
    options: tierOptionsOf(input),
  };

  const early =
    (await rateLimited(ctx)) ??
    forbidden(ctx, "create") ??
    (input.team && !ctx.principal.teams.includes(input.team)
      ? ({
          ok: false,
          code: "forbidden",
          field: "team",
          message: `You are not in team ${input.team}; choose one of your teams.`,
        } as Refusal)
      : null) ??
    replicaQuota(ctx.quotas, input.frontendReplicas, input.redisReplicas) ??
    ttlQuota(ctx, input.ttlHours);
  if (early) return await refuse(ctx, "create", early, target, details);

  let result: CommandResult;
  let networkOperationId: string | undefined;
  let networkName: string | undefined;
  try {
    result = await ctx.db.$transaction(async (tx) => {
      const overQuota = await environmentQuota(tx, ctx, input.team ?? null);
      if (overQuota) return overQuota;
      // AWS: the region's shared network, created with this environment when the region has none.
      const placed =
        input.target === "aws" && input.region
          ? await placeInNetwork(tx, ctx, input.region, ctx.networks)
          : undefined;
      if (placed && "refusal" in placed) {
        return { ok: false, code: "refused", message: placed.refusal } satisfies Refusal;
      }
      networkOperationId = placed?.operationId;
      networkName = placed?.networkName;
      const env = await tx.environment.create({
        data: {
          name: input.name,
          target: input.target,
          region: input.target === "aws" ? (input.region ?? null) : null,
          owner: ctx.principal.id,
          team: input.team ?? null,
          desiredFrontendReplicas: input.frontendReplicas,
          desiredRedisReplicas: input.redisReplicas,
          allowVoteReset: input.allowReset ?? false,
          options: tierOptionsOf(input) as Prisma.InputJsonValue,
          expiresAt: input.ttlHours ? new Date(Date.now() + input.ttlHours * 3600_000) : null,
          idempotencyKey: input.idempotencyKey,
          networkId: placed?.networkId ?? null,
        },
      });
      const op = await tx.operation.create({
        data: {
          environmentId: env.id,
          kind: "create",
          requestedConfig: configOf(env) as unknown as Prisma.InputJsonValue,
          requestedBy: ctx.principal.id,
          idempotencyKey: input.idempotencyKey,
        },
      });
      await tx.environment.update({ where: { id: env.id }, data: { lastOperationId: op.id } });
      const ok = accepted(env.name, "Create requested.", op.id);
      await audit(ctx, "create", ok, { name: env.name, id: env.id }, details, tx);
      return ok;
    });
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    // Concurrent double submits race on both unique keys; the key decides whether this is the same request.
    const first = await ctx.db.environment.findUnique({ where: { idempotencyKey: input.idempotencyKey } });
    if (first) return accepted(first.name, "Already requested.", undefined, true);
    result = {
      ok: false,
      code: "conflict",
      field: "name",
      message: `The name “${input.name}” is taken. Choose another.`,
    };
  }
  if (!result.ok) return await refuse(ctx, "create", result, target, details);
  // The network's create first (the environment's waits for it in the worker).
  if (networkOperationId && networkName) {
    await enqueueOperation(ctx.boss, networkOperationId, networkJobKey(networkName));
  }
  await enqueueOperation(ctx.boss, result.operationId as string, result.environment);
  return result;
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
  const limited = await rateLimited(ctx);
  if (limited) return await refuse(ctx, action, limited, { name: input.name });
  const loaded = await loadState(ctx, input.name);
  if (!loaded) return await refuse(ctx, action, notFound(input.name), { name: input.name });
  if (input.idempotencyKey) {
    const already = await ctx.db.operation.findUnique({ where: { idempotencyKey: input.idempotencyKey } });
    if (already) return accepted(input.name, "Already requested.", already.id, true);
  }
  const ref = { name: loaded.env.name, id: loaded.env.id };
  const denied = forbidden(ctx, action, loaded.env);
  if (denied) return await refuse(ctx, action, denied, ref);
  const why = refusal(action, loaded.state);
  if (why) return await refuse(ctx, action, { ok: false, code: "refused", message: why }, ref);
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
    // Nothing to do only when the counts asked for are also the counts running (after a refresh found a
    // replica gone, scaling to the same counts repairs it).
    if (
      env.desiredFrontendReplicas === input.frontendReplicas &&
      env.desiredRedisReplicas === input.redisReplicas &&
      env.currentFrontendReplicas === input.frontendReplicas &&
      env.currentRedisReplicas === input.redisReplicas &&
      env.status === "ready"
    ) {
      return await refuse(
        ctx,
        "scale",
        { ok: false, code: "refused", message: "Nothing to change: those are the current replica counts." },
        env,
      );
    }
    return await recordOperation(ctx, env, "scale", scaledConfig(env, input), input.idempotencyKey, {
      desired: { frontend: input.frontendReplicas, redis: input.redisReplicas },
      check: async () => replicaQuota(ctx.quotas, input.frontendReplicas, input.redisReplicas),
    });
  });
}

/** Asks the worker what a scale to these counts would change (Pulumi preview); changes nothing. */
export async function previewScale(
  ctx: CommandContext,
  input: ScaleEnvironmentInput,
): Promise<CommandResult> {
  return await guarded(ctx, input, "preview", ({ env }) =>
    recordOperation(ctx, env, "preview", scaledConfig(env, input), input.idempotencyKey, {
      check: async () => replicaQuota(ctx.quotas, input.frontendReplicas, input.redisReplicas),
    }),
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

/**
 * Makes the environment what was asked again: an up with the counts and options asked for. Pulumi creates what
 * is gone, updates what changed and leaves the rest (a no-op when nothing differs). Offered when the counts
 * deployed differ from those asked for, or a refresh or drift check found something gone or changed.
 */
export async function reconcileEnvironment(
  ctx: CommandContext,
  input: EnvironmentActionInput,
): Promise<CommandResult> {
  return await guarded(ctx, input, "reconcile", ({ env }) =>
    recordOperation(ctx, env, "reconcile", configOf(env), input.idempotencyKey),
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
    if (!last || last.kind === "repair")
      return await refuse(ctx, "retry", { ok: false, code: "refused", message: "Nothing to retry." }, env);
    const config = last.requestedConfig as unknown as RequestedConfig;
    let networkJob: { id: string; name: string } | undefined;
    const result = await recordOperation(ctx, env, last.kind, config, input.idempotencyKey, {
      retryOfId: last.id,
      audit: "retry",
      check: async (tx) => {
        const quota = replicaQuota(ctx.quotas, config.frontendReplicas, config.redisReplicas);
        if (quota) return quota;
        // A retried create or scale needs its network: started again if it failed or is gone.
        if (env.target !== "aws" || !env.region || last.kind === "destroy" || last.kind === "refresh")
          return null;
        const placed = await placeInNetwork(tx, ctx, env.region, ctx.networks);
        if ("refusal" in placed) return { ok: false, code: "refused", message: placed.refusal };
        if (placed.networkId !== env.networkId) {
          await tx.environment.update({ where: { id: env.id }, data: { networkId: placed.networkId } });
        }
        if (placed.operationId) networkJob = { id: placed.operationId, name: placed.networkName };
        return null;
      },
    });
    if (result.ok && !result.duplicate && networkJob) {
      await enqueueOperation(ctx.boss, networkJob.id, networkJobKey(networkJob.name));
    }
    return result;
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
        error: `cancelled by ${ctx.principal.id}`,
      },
    });
    const done = async (message: string) => {
      const ok = accepted(env.name, message, opId);
      await audit(ctx, "cancel", ok, env, { kind: env.lastOperation?.kind, wasQueued: dequeued.count === 1 });
      return ok;
    };
    if (dequeued.count === 1 && env.lastOperation?.kind === "preview") {
      return await done("The queued preview was cancelled.");
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
      return await done("The queued operation was cancelled.");
    }
    await ctx.db.operation.updateMany({
      where: { id: opId, status: "running" },
      data: { cancelRequested: true },
    });
    return await done("Cancelling: the running operation is being stopped.");
  });
}

export async function removeEnvironment(
  ctx: CommandContext,
  input: EnvironmentActionInput,
): Promise<CommandResult> {
  return await guarded(ctx, { name: input.name }, "remove", async ({ env }) => {
    // Soft deletion: the row, its operations and the audit log stay; the name becomes free again.
    const ok = accepted(env.name, `The record of “${env.name}” was removed.`);
    await ctx.db.$transaction(async (tx) => {
      const removed = await tx.environment.updateMany({
        where: { id: env.id, deletedAt: null },
        data: { deletedAt: new Date(), idempotencyKey: null },
      });
      if (removed.count === 1) await audit(ctx, "remove", ok, env, undefined, tx);
    });
    return ok;
  });
}
