// What people (admins) and the environment commands ask of networks: check, record, audit, enqueue — the same
// way as for environments (an operation row with network_id, a pg-boss job, the same workers). Never waits for
// Pulumi. Free of Next.js.
import { Prisma, type PrismaClient } from "@platform/db/client";
import type { ExistingNetwork } from "@platform/infra/types";
import { enqueueOperation } from "../../server/queue";
import type { Principal } from "../../shared/access";
import type { OperationKind } from "../../shared/status";
import { type AuditAction, writeAudit } from "../audit/audit-log";
import type { CommandContext } from "../environments/commands";
import {
  type CreateNetworkInput,
  type DestroyNetworkInput,
  defaultNetworkName,
  type NetworkAction,
  type NetworkActionInput,
  type NetworkRecord,
  type NetworkState,
  networkRefusal,
  networkSpecOf,
} from "./model";

/** How the portal makes the networks it creates on its own (first AWS environment of a region). */
export interface NetworkSettings {
  natGateways: "single" | "onePerAz";
  availabilityZones: number;
  /** Regions whose network is an existing VPC (configuration: AWS_NETWORKS). */
  adopt: Record<string, ExistingNetwork>;
}

export const DEFAULT_NETWORK_SETTINGS: NetworkSettings = {
  natGateways: "single",
  availabilityZones: 2,
  adopt: {},
};

export type NetworkCommandResult =
  | { ok: true; network: string; operationId?: string; message: string; duplicate?: boolean }
  | {
      ok: false;
      code: "not-found" | "refused" | "conflict" | "forbidden" | "rate-limited";
      message: string;
      field?: string;
    };
type Refusal = Extract<NetworkCommandResult, { ok: false }>;

/** The queue's singleton key of a network's jobs: never the same as an environment's (names may coincide). */
export const networkJobKey = (name: string) => `network:${name}`;

const isUniqueViolation = (e: unknown) =>
  e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002";

/** A live network (removed records are history only). */
export const findLiveNetwork = (
  db: Pick<PrismaClient, "network"> | Prisma.TransactionClient,
  where: { name?: string; region?: string },
) => db.network.findFirst({ where: { ...where, deletedAt: null }, include: { lastOperation: true } });

async function audit(
  ctx: CommandContext,
  action: AuditAction,
  result: NetworkCommandResult,
  network: string,
  details?: Record<string, unknown>,
  db: Parameters<typeof writeAudit>[0] = ctx.db,
) {
  await writeAudit(db, {
    actor: ctx.principal,
    action,
    outcome: result.ok ? "accepted" : "refused",
    reason: result.ok ? undefined : result.message,
    operationId: result.ok ? result.operationId : undefined,
    address: ctx.address,
    details: { network, ...details, ...(result.ok ? {} : { code: result.code }) },
  });
}

async function refuse(ctx: CommandContext, action: AuditAction, r: Refusal, network: string) {
  await audit(ctx, action, r, network);
  return r;
}

const AUDIT: Record<NetworkAction, AuditAction> = {
  create: "create-network",
  refresh: "refresh-network",
  retry: "retry-network",
  cancel: "cancel-network",
  destroy: "destroy-network",
  remove: "remove-network",
};

/** Only admins operate networks directly (environments create theirs as a side effect, see below). */
function forbidden(principal: Principal, action: NetworkAction): Refusal | null {
  if (principal.role === "admin") return null;
  return {
    ok: false,
    code: "forbidden",
    message: `Only admins can ${action === "remove" ? "remove the record of" : action} networks; a network is created with the first AWS environment of its region.`,
  };
}

async function rateLimited(ctx: CommandContext): Promise<Refusal | null> {
  const wait = await ctx.rateLimiter?.consume(ctx.principal.id);
  if (!wait) return null;
  return {
    ok: false,
    code: "rate-limited",
    message: `Too many requests: at most ${ctx.rateLimiter?.perMinute} actions a minute per person. Nothing was changed; try again in ${wait} s.`,
  };
}

const LIVE_ENVIRONMENT = {
  deletedAt: null,
  status: { not: "destroyed" },
} satisfies Prisma.EnvironmentWhereInput;

/** The network's state as the refusal rules see it. */
async function stateOf(
  db: Prisma.TransactionClient | PrismaClient,
  networkId: string,
): Promise<NetworkState & { id: string }> {
  const n = await db.network.findUniqueOrThrow({
    where: { id: networkId },
    include: { lastOperation: true },
  });
  const [environments, started] = await Promise.all([
    db.environment.count({ where: { ...LIVE_ENVIRONMENT, networkId } }),
    db.operation.count({ where: { networkId, startedAt: { not: null } } }),
  ]);
  return {
    id: n.id,
    status: n.status,
    lastOperationStatus: n.lastOperation?.status ?? null,
    lastOperationKind: n.lastOperation?.kind ?? null,
    environments,
    everStarted: started > 0,
  };
}

/** Records a network operation, makes it the network's last, audits it; the job is sent after the commit. */
async function recordNetworkOperation(
  tx: Prisma.TransactionClient,
  ctx: CommandContext,
  network: NetworkRecord & { id: string },
  kind: OperationKind,
  idempotencyKey: string | undefined,
  action: AuditAction,
  extra: { retryOfId?: string } = {},
): Promise<string> {
  const op = await tx.operation.create({
    data: {
      networkId: network.id,
      kind,
      requestedConfig: networkSpecOf(network) as unknown as Prisma.InputJsonValue,
      requestedBy: ctx.principal.id,
      idempotencyKey,
      retryOfId: extra.retryOfId,
    },
  });
  await tx.network.update({
    where: { id: network.id },
    data: {
      lastOperationId: op.id,
      // A create of a destroyed (or never created) network makes it pending again.
      ...(kind === "create" ? { status: "queued" } : {}),
    },
  });
  await audit(
    ctx,
    action,
    { ok: true, network: network.name, operationId: op.id, message: "requested" },
    network.name,
    { kind },
    tx,
  );
  return op.id;
}

/**
 * Inside an AWS environment's create transaction: the network of its region, created (row and create operation)
 * when the region has none yet or its network was destroyed. Refuses while the network is being destroyed.
 * Returns the operation to enqueue after the commit, if one was recorded.
 */
export async function placeInNetwork(
  tx: Prisma.TransactionClient,
  ctx: CommandContext,
  region: string,
  settings: NetworkSettings = DEFAULT_NETWORK_SETTINGS,
): Promise<{ networkId: string; networkName: string; operationId?: string } | { refusal: string }> {
  // One region at a time: two first environments of a region create one network, not two.
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`network:${region}`}))`;
  let network = await findLiveNetwork(tx, { region });
  if (network) {
    // Serialised with a destroy of this network (which counts its environments under the same lock).
    await tx.$executeRaw`SELECT id FROM networks WHERE id = ${network.id}::uuid FOR UPDATE`;
  }
  if (!network) {
    const adopt = settings.adopt[region];
    network = await tx.network.create({
      data: {
        name: defaultNetworkName(region),
        region,
        mode: adopt ? "adopted" : "created",
        natGateways: adopt ? null : settings.natGateways,
        availabilityZones: adopt ? null : settings.availabilityZones,
        existing: adopt ? (adopt as unknown as Prisma.InputJsonValue) : undefined,
        createdBy: ctx.principal.id,
      },
      include: { lastOperation: true },
    });
  }
  const busy = network.lastOperation?.status === "queued" || network.lastOperation?.status === "running";
  if (network.status === "destroying" || (busy && network.lastOperation?.kind === "destroy")) {
    return {
      refusal: `The network of ${region} (${network.name}) is being destroyed: create the environment when that is done.`,
    };
  }
  // Nothing exists (new, destroyed) or its create failed and nothing runs: (re)start its create. The
  // environment's create waits for it (see the worker).
  const needsCreate =
    !busy &&
    (network.lastOperationId === null || network.status === "destroyed" || network.status === "failed");
  if (!needsCreate) return { networkId: network.id, networkName: network.name };
  const operationId = await recordNetworkOperation(tx, ctx, network, "create", undefined, "create-network", {
    retryOfId: network.status === "failed" ? (network.lastOperationId ?? undefined) : undefined,
  });
  return { networkId: network.id, networkName: network.name, operationId };
}

/** An admin creates the network of a region ahead of its first environment (or again after a destroy). */
export async function createNetwork(
  ctx: CommandContext,
  input: CreateNetworkInput,
  settings: NetworkSettings = DEFAULT_NETWORK_SETTINGS,
): Promise<NetworkCommandResult> {
  const name = defaultNetworkName(input.region);
  const already = await ctx.db.operation.findUnique({ where: { idempotencyKey: input.idempotencyKey } });
  if (already)
    return {
      ok: true,
      network: name,
      operationId: already.id,
      message: "Already requested.",
      duplicate: true,
    };
  const early = (await rateLimited(ctx)) ?? forbidden(ctx.principal, "create");
  if (early) return await refuse(ctx, "create-network", early, name);
  const adopt = settings.adopt[input.region];
  let result: NetworkCommandResult;
  try {
    result = await ctx.db.$transaction(async (tx) => {
      let network = await findLiveNetwork(tx, { region: input.region });
      if (network) {
        const why = networkRefusal("create", await stateOf(tx, network.id), `The network of ${input.region}`);
        if (why) return { ok: false, code: "refused", message: why } satisfies Refusal;
        network = await tx.network.update({
          where: { id: network.id },
          data: adopt
            ? {}
            : {
                natGateways: input.natGateways,
                availabilityZones: input.availabilityZones,
                createdBy: ctx.principal.id,
              },
          include: { lastOperation: true },
        });
      } else {
        network = await tx.network.create({
          data: {
            name,
            region: input.region,
            mode: adopt ? "adopted" : "created",
            natGateways: adopt ? null : input.natGateways,
            availabilityZones: adopt ? null : input.availabilityZones,
            existing: adopt ? (adopt as unknown as Prisma.InputJsonValue) : undefined,
            createdBy: ctx.principal.id,
          },
          include: { lastOperation: true },
        });
      }
      const operationId = await recordNetworkOperation(
        tx,
        ctx,
        network,
        "create",
        input.idempotencyKey,
        "create-network",
      );
      return {
        ok: true,
        network: name,
        operationId,
        message: adopt ? "Adopting the configured VPC: create requested." : "Create requested.",
      } satisfies NetworkCommandResult;
    });
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    result = {
      ok: false,
      code: "conflict",
      message: `The network of ${input.region} was just requested by someone else.`,
    };
  }
  if (!result.ok) return await refuse(ctx, "create-network", result, name);
  await enqueueOperation(ctx.boss, result.operationId as string, networkJobKey(name));
  return result;
}

/** The common path of commands on an existing network: found, double submit, allowed, possible now. */
async function guarded(
  ctx: CommandContext,
  input: { name: string; idempotencyKey?: string },
  action: NetworkAction,
  run: (
    network: NonNullable<Awaited<ReturnType<typeof findLiveNetwork>>>,
    state: NetworkState,
  ) => Promise<NetworkCommandResult>,
): Promise<NetworkCommandResult> {
  const early = (await rateLimited(ctx)) ?? forbidden(ctx.principal, action);
  if (early) return await refuse(ctx, AUDIT[action], early, input.name);
  const network = await findLiveNetwork(ctx.db, { name: input.name });
  if (!network) {
    return await refuse(
      ctx,
      AUDIT[action],
      {
        ok: false,
        code: "not-found",
        message: `There is no network named “${input.name}”. It may have been removed.`,
      },
      input.name,
    );
  }
  if (input.idempotencyKey) {
    const already = await ctx.db.operation.findUnique({ where: { idempotencyKey: input.idempotencyKey } });
    if (already)
      return {
        ok: true,
        network: network.name,
        operationId: already.id,
        message: "Already requested.",
        duplicate: true,
      };
  }
  const state = await stateOf(ctx.db, network.id);
  const why = networkRefusal(action, state, `Network ${network.name}`);
  if (why)
    return await refuse(ctx, AUDIT[action], { ok: false, code: "refused", message: why }, network.name);
  return await run(network, state);
}

/** Records an operation on the network in a transaction that re-checks the rule (no race with a new environment). */
async function operate(
  ctx: CommandContext,
  network: NonNullable<Awaited<ReturnType<typeof findLiveNetwork>>>,
  kind: OperationKind,
  action: NetworkAction,
  idempotencyKey: string,
  extra: { retryOfId?: string } = {},
): Promise<NetworkCommandResult> {
  let result: NetworkCommandResult;
  try {
    result = await ctx.db.$transaction(async (tx) => {
      // Serialised with environment creates (which lock the network row the same way).
      await tx.$executeRaw`SELECT id FROM networks WHERE id = ${network.id}::uuid FOR UPDATE`;
      const why = networkRefusal(action, await stateOf(tx, network.id), `Network ${network.name}`);
      if (why) return { ok: false, code: "refused", message: why } satisfies Refusal;
      const operationId = await recordNetworkOperation(
        tx,
        ctx,
        network,
        kind,
        idempotencyKey,
        AUDIT[action],
        extra,
      );
      return {
        ok: true,
        network: network.name,
        operationId,
        message: `${kind[0]?.toUpperCase()}${kind.slice(1)} requested.`,
      } satisfies NetworkCommandResult;
    });
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    result = {
      ok: false,
      code: "conflict",
      message: "Another operation on this network was just requested.",
    };
  }
  if (!result.ok) return await refuse(ctx, AUDIT[action], result, network.name);
  await enqueueOperation(ctx.boss, result.operationId as string, networkJobKey(network.name));
  return result;
}

export const refreshNetwork = (ctx: CommandContext, input: NetworkActionInput) =>
  guarded(ctx, input, "refresh", (n) => operate(ctx, n, "refresh", "refresh", input.idempotencyKey));

/** Refused (nothing recorded) while environments use the network; the operations refuse it again with in-use. */
export const destroyNetwork = (ctx: CommandContext, input: DestroyNetworkInput) =>
  guarded(ctx, input, "destroy", (n) => operate(ctx, n, "destroy", "destroy", input.idempotencyKey));

export const retryNetworkOperation = (ctx: CommandContext, input: NetworkActionInput) =>
  guarded(ctx, input, "retry", (n) => {
    const last = n.lastOperation;
    if (!last)
      return Promise.resolve({ ok: false, code: "refused", message: "Nothing to retry." } as Refusal);
    return operate(ctx, n, last.kind, "retry", input.idempotencyKey, { retryOfId: last.id });
  });

/** A queued operation is cancelled at once; a running one is asked to stop (the worker aborts it). */
export const cancelNetworkOperation = (ctx: CommandContext, input: NetworkActionInput) =>
  guarded(ctx, { name: input.name }, "cancel", async (n) => {
    const opId = n.lastOperationId as string;
    const dequeued = await ctx.db.operation.updateMany({
      where: { id: opId, status: "queued" },
      data: {
        status: "cancelled",
        finishedAt: new Date(),
        cancelRequested: true,
        error: `cancelled by ${ctx.principal.id}`,
      },
    });
    let message = "Cancelling: the running operation is being stopped.";
    if (dequeued.count === 1) {
      const previous = await ctx.db.operation.findFirst({
        where: { networkId: n.id, status: "succeeded" },
        orderBy: { createdAt: "desc" },
      });
      await ctx.db.network.update({
        where: { id: n.id },
        data: { status: previous ? (previous.kind === "destroy" ? "destroyed" : "ready") : "failed" },
      });
      message = "The queued operation was cancelled.";
    } else {
      await ctx.db.operation.updateMany({
        where: { id: opId, status: "running" },
        data: { cancelRequested: true },
      });
    }
    const ok = { ok: true, network: n.name, operationId: opId, message } as const;
    await audit(ctx, "cancel-network", ok, n.name);
    return ok;
  });

/** Removes the record of a destroyed (or never created) network; its row stays for the history. */
export const removeNetwork = (ctx: CommandContext, input: NetworkActionInput) =>
  guarded(ctx, { name: input.name }, "remove", async (n) => {
    await ctx.db.network.update({ where: { id: n.id }, data: { deletedAt: new Date() } });
    const ok = {
      ok: true,
      network: n.name,
      message: `The record of network “${n.name}” was removed.`,
    } as const;
    await audit(ctx, "remove-network", ok, n.name);
    return ok;
  });
