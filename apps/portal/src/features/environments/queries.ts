// Reads for the pages. Server-only (Prisma).
import type { Prisma } from "@platform/db/client";
import { db } from "../../server/db";
import type { ListFilter } from "../../shared/environment-schemas";

const listSelect = {
  id: true,
  name: true,
  target: true,
  region: true,
  status: true,
  owner: true,
  desiredFrontendReplicas: true,
  desiredRedisReplicas: true,
  currentFrontendReplicas: true,
  currentRedisReplicas: true,
  outputs: true,
  createdAt: true,
  expiresAt: true,
  lastOperation: {
    select: {
      id: true,
      kind: true,
      status: true,
      createdAt: true,
      finishedAt: true,
      progressDone: true,
      progressExpected: true,
    },
  },
} satisfies Prisma.EnvironmentSelect;

export type EnvironmentListItem = Prisma.EnvironmentGetPayload<{ select: typeof listSelect }>;

export async function listEnvironments(
  filter: ListFilter,
  user: string,
  limit = 200,
): Promise<EnvironmentListItem[]> {
  const where: Prisma.EnvironmentWhereInput = {};
  if (filter.status === "active") where.status = { not: "destroyed" };
  else if (filter.status !== "all") where.status = filter.status;
  if (filter.mine) where.owner = user;
  return await db().environment.findMany({
    where,
    select: listSelect,
    orderBy: { createdAt: "desc" },
    take: limit,
  });
}

export async function countEnvironments(): Promise<number> {
  return await db().environment.count();
}

export async function getEnvironment(name: string) {
  const env = await db().environment.findUnique({
    where: { name },
    include: {
      lastOperation: true,
      operations: { orderBy: { createdAt: "desc" }, take: 25 },
    },
  });
  if (!env) return null;
  const everStarted = env.operations.some((o) => o.startedAt !== null);
  return { ...env, everStarted };
}
export type EnvironmentDetail = NonNullable<Awaited<ReturnType<typeof getEnvironment>>>;

/** Events after `afterId` (for the live log), oldest first. */
export async function eventsAfter(operationId: string, afterId: bigint, take = 500) {
  return await db().operationEvent.findMany({
    where: { operationId, id: { gt: afterId } },
    orderBy: { id: "asc" },
    take,
    select: { id: true, type: true, severity: true, message: true, createdAt: true },
  });
}

export async function operationProgress(environmentName: string, operationId: string) {
  return await db().operation.findFirst({
    where: { id: operationId, environment: { name: environmentName } },
    select: { id: true, kind: true, status: true, progressDone: true, progressExpected: true, error: true },
  });
}
