// Reads of networks for the pages. Server-only (Prisma).
import type { Prisma } from "@platform/db/client";
import { db } from "../../server/db";

/** Environments that sit in a network (and share its cost): neither destroyed nor removed. */
export const LIVE_ENVIRONMENT = {
  deletedAt: null,
  status: { not: "destroyed" },
} satisfies Prisma.EnvironmentWhereInput;

const listSelect = {
  id: true,
  name: true,
  region: true,
  mode: true,
  natGateways: true,
  availabilityZones: true,
  status: true,
  outputs: true,
  createdBy: true,
  createdAt: true,
  lastOperation: {
    select: {
      id: true,
      kind: true,
      status: true,
      createdAt: true,
      progressDone: true,
      progressExpected: true,
    },
  },
  _count: { select: { environments: { where: LIVE_ENVIRONMENT } } },
} satisfies Prisma.NetworkSelect;

export type NetworkListItem = Prisma.NetworkGetPayload<{ select: typeof listSelect }>;

/** Every live network, by region. */
export async function listNetworks(): Promise<NetworkListItem[]> {
  return await db().network.findMany({
    where: { deletedAt: null },
    select: listSelect,
    orderBy: { region: "asc" },
  });
}

export async function getNetwork(name: string) {
  const network = await db().network.findFirst({
    where: { name, deletedAt: null },
    include: {
      lastOperation: true,
      operations: { orderBy: { createdAt: "desc" }, take: 25 },
      environments: {
        where: { deletedAt: null },
        select: {
          name: true,
          status: true,
          owner: true,
          desiredFrontendReplicas: true,
          desiredRedisReplicas: true,
        },
        orderBy: { name: "asc" },
      },
    },
  });
  if (!network) return null;
  const everStarted = network.operations.some((o) => o.startedAt !== null);
  const liveEnvironments = network.environments.filter((e) => e.status !== "destroyed").length;
  return { ...network, everStarted, liveEnvironments };
}
export type NetworkDetail = NonNullable<Awaited<ReturnType<typeof getNetwork>>>;

/** A network's operation, for its event stream (the network must be live). */
export async function networkOperationProgress(networkName: string, operationId: string) {
  return await db().operation.findFirst({
    where: { id: operationId, network: { name: networkName, deletedAt: null } },
    select: { id: true, kind: true, status: true, progressDone: true, progressExpected: true, error: true },
  });
}

/** How each region's network is shared, for cost estimates: its NAT gateways and live environments. */
export interface NetworkSharing {
  name: string;
  natGateways: number;
  adopted: boolean;
  environments: number;
}

export async function networkSharingByRegion(): Promise<Record<string, NetworkSharing>> {
  const rows = await db().network.findMany({
    where: { deletedAt: null, status: { not: "destroyed" } },
    select: {
      name: true,
      region: true,
      mode: true,
      natGateways: true,
      availabilityZones: true,
      outputs: true,
      _count: { select: { environments: { where: LIVE_ENVIRONMENT } } },
    },
  });
  return Object.fromEntries(rows.map((r) => [r.region, sharingOf(r, r._count.environments)]));
}

/** NAT gateways of a network: what its stack reported, else what its settings will create. */
export function sharingOf(
  n: {
    name: string;
    mode: string;
    natGateways: string | null;
    availabilityZones: number | null;
    outputs: unknown;
  },
  environments: number,
): NetworkSharing {
  const reported = (n.outputs as { natGatewayCount?: unknown } | null)?.natGatewayCount;
  const natGateways =
    typeof reported === "number"
      ? reported
      : n.mode === "adopted"
        ? 0
        : n.natGateways === "onePerAz"
          ? (n.availabilityZones ?? 2)
          : 1;
  return { name: n.name, natGateways, adopted: n.mode === "adopted", environments };
}

/** The network an environment sits in, with how it is shared (for the environment's estimate and topology). */
export async function networkOfEnvironment(networkId: string | null) {
  if (!networkId) return null;
  const n = await db().network.findUnique({
    where: { id: networkId },
    select: {
      name: true,
      region: true,
      mode: true,
      natGateways: true,
      availabilityZones: true,
      status: true,
      outputs: true,
      _count: { select: { environments: { where: LIVE_ENVIRONMENT } } },
    },
  });
  if (!n) return null;
  return { ...n, sharing: sharingOf(n, n._count.environments) };
}
