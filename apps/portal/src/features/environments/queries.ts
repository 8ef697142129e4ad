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
  team: true,
  desiredFrontendReplicas: true,
  desiredRedisReplicas: true,
  currentFrontendReplicas: true,
  currentRedisReplicas: true,
  options: true,
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
      changes: true,
    },
  },
  drift: { select: { status: true, checkedAt: true, differences: true, error: true } },
} satisfies Prisma.EnvironmentSelect;

export type EnvironmentListItem = Prisma.EnvironmentGetPayload<{ select: typeof listSelect }>;

export const PAGE_SIZE = 50;

/** One page of environments, newest first, and how many match in total. */
/** Which environments the list's filter shows (all pages). */
export function listWhere(filter: ListFilter, user: string): Prisma.EnvironmentWhereInput {
  const where: Prisma.EnvironmentWhereInput = { deletedAt: null };
  if (filter.status === "active") where.status = { not: "destroyed" };
  else if (filter.status !== "all") where.status = filter.status;
  if (filter.mine) where.owner = user;
  return where;
}

export async function listEnvironments(
  filter: ListFilter,
  user: string,
): Promise<{ items: EnvironmentListItem[]; total: number }> {
  const where = listWhere(filter, user);
  const [items, total] = await Promise.all([
    db().environment.findMany({
      where,
      select: listSelect,
      orderBy: [{ createdAt: "desc" }, { id: "asc" }],
      take: PAGE_SIZE,
      skip: (filter.page - 1) * PAGE_SIZE,
    }),
    db().environment.count({ where }),
  ]);
  return { items, total };
}

export async function countEnvironments(): Promise<number> {
  return await db().environment.count({ where: { deletedAt: null } });
}

export async function getEnvironment(name: string) {
  const env = await db().environment.findFirst({
    where: { name, deletedAt: null },
    include: {
      lastOperation: true,
      operations: {
        orderBy: { createdAt: "desc" },
        take: 25,
        // What a repair replaced (only repairs have such events).
        include: {
          events: { where: { type: "repair" }, orderBy: { id: "asc" }, take: 10, select: { message: true } },
        },
      },
      drift: true,
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
    where: { id: operationId, environment: { name: environmentName, deletedAt: null } },
    select: { id: true, kind: true, status: true, progressDone: true, progressExpected: true, error: true },
  });
}

/** Live environments counted by the quotas: the person's, each of their teams', and the portal's. */
export async function quotaUsage(owner: string, teams: string[]) {
  const live = { deletedAt: null, status: { not: "destroyed" as const } };
  const [own, total, byTeam] = await Promise.all([
    db().environment.count({ where: { ...live, owner } }),
    db().environment.count({ where: live }),
    teams.length
      ? db().environment.groupBy({ by: ["team"], where: { ...live, team: { in: teams } }, _count: true })
      : Promise.resolve([]),
  ]);
  return { own, total, teams: Object.fromEntries(byTeam.map((t) => [t.team as string, t._count])) };
}
