// The monthly estimate of every environment a list filter shows (all its pages, not only the one displayed).
import { db } from "../../server/db";
import type { ListFilter } from "../../shared/environment-schemas";
import { listWhere } from "../environments/queries";
import { sharingOf } from "../networks/queries";
import { environmentEstimate, totalOf } from "./estimate";

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
  const rows = await db().environment.findMany({
    // Destroyed environments cost nothing, whatever the filter shows.
    where: { AND: [listWhere(filter, user), { status: { not: "destroyed" } }] },
    select: {
      target: true,
      region: true,
      status: true,
      desiredFrontendReplicas: true,
      desiredRedisReplicas: true,
      network: {
        select: {
          name: true,
          mode: true,
          natGateways: true,
          availabilityZones: true,
          outputs: true,
          _count: { select: { environments: { where: { deletedAt: null, status: { not: "destroyed" } } } } },
        },
      },
    },
  });
  const aws = rows.filter((r) => r.target === "aws" && r.region);
  const results = aws.map((r) =>
    environmentEstimate({
      region: r.region as string,
      frontendReplicas: r.desiredFrontendReplicas,
      redisReplicas: r.desiredRedisReplicas,
      sharing: r.network
        ? sharingOf(r.network, r.network._count.environments)
        : { natGateways: 1, adopted: false, environments: 1 },
    }),
  );
  const { total, unpriced } = totalOf(results);
  return { total, aws: aws.length - unpriced, local: rows.length - aws.length, unpriced };
}
