// The monthly estimate of every environment a list filter shows (all its pages, not only the one displayed).
// One grouped query (environments alike in target, region, network, replicas and options are counted together) and one
// for their networks, so it stays cheap with hundreds of environments.
import { db } from "../../server/db";
import type { ListFilter } from "../../shared/environment-schemas";
import { storedTierOptions } from "../../shared/tier-options";
import { listWhere } from "../environments/queries";
import { LIVE_ENVIRONMENT, sharingOf } from "../networks/queries";
import { environmentEstimate } from "./estimate";

export interface ListCost {
  total: number;
  /** AWS environments estimated. */
  aws: number;
  /** Local ones (no cloud cost). */
  local: number;
  /** AWS environments in regions without prices. */
  unpriced: number;
}

export async function listCostTotal(filter: ListFilter, user: string): Promise<ListCost> {
  const groups = await db().environment.groupBy({
    // `options` (jsonb, equality-comparable) too: a cache or database option adds line items.
    by: ["target", "region", "networkId", "desiredFrontendReplicas", "desiredRedisReplicas", "options"],
    // Destroyed environments cost nothing, whatever the filter shows.
    where: { AND: [listWhere(filter, user), { status: { not: "destroyed" } }] },
    _count: { _all: true },
  });
  const networkIds = [...new Set(groups.map((g) => g.networkId).filter((id): id is string => !!id))];
  const networks = networkIds.length
    ? await db().network.findMany({
        where: { id: { in: networkIds } },
        select: {
          id: true,
          name: true,
          mode: true,
          natGateways: true,
          availabilityZones: true,
          outputs: true,
          _count: { select: { environments: { where: LIVE_ENVIRONMENT } } },
        },
      })
    : [];
  const sharing = new Map(networks.map((n) => [n.id, sharingOf(n, n._count.environments)]));
  let cents = 0;
  let aws = 0;
  let local = 0;
  let unpriced = 0;
  for (const g of groups) {
    const count = g._count._all;
    if (g.target !== "aws" || !g.region) {
      local += count;
      continue;
    }
    const r = environmentEstimate({
      region: g.region,
      frontendReplicas: g.desiredFrontendReplicas,
      redisReplicas: g.desiredRedisReplicas,
      options: storedTierOptions(g.options),
      sharing: (g.networkId && sharing.get(g.networkId)) || {
        natGateways: 1,
        adopted: false,
        environments: 1,
      },
    });
    if (r.ok) {
      cents += Math.round(r.estimate.monthlyTotal * 100) * count;
      aws += count;
    } else unpriced += count;
  }
  return { total: cents / 100, aws, local, unpriced };
}
