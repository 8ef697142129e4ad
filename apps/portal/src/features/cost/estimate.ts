// Monthly cost estimates as the pages show them, from @platform/infra/cost (its committed price table; zod only,
// so the create form computes them in the browser as the sliders move). Local environments cost nothing.
import {
  type CostEstimate,
  CostEstimateError,
  estimateEnvironmentCost,
  estimateNetworkCost,
} from "@platform/infra/cost";
import type { TierOptions } from "../../shared/tier-options";

export type { CostEstimate };

/** How the region's network is shared (see features/networks/queries.ts). */
export interface SharingInput {
  natGateways: number;
  adopted: boolean;
  /** Environments in it now. */
  environments: number;
}

export type EstimateResult = { ok: true; estimate: CostEstimate } | { ok: false; reason: string };

/**
 * The estimate of an AWS environment. `joining`: the environment is not in the network yet (the create form),
 * so it will be one more sharing the NAT gateways.
 */
export function environmentEstimate(input: {
  region: string;
  frontendReplicas: number;
  redisReplicas: number;
  /** The environment's cache and database options: each adds its own line items. */
  options?: TierOptions;
  sharing: SharingInput;
  joining?: boolean;
}): EstimateResult {
  const { cache, database } = input.options ?? {};
  try {
    return {
      ok: true,
      estimate: estimateEnvironmentCost({
        region: input.region,
        frontendReplicas: input.frontendReplicas,
        redisReplicas: input.redisReplicas,
        // The spec's own option objects (its defaults are the estimator's too).
        cache: cache?.kind === "elasticache" ? { kind: "elasticache", nodeType: cache.nodeType } : undefined,
        database: database
          ? { instanceClass: database.instanceClass, storageGb: database.storageGb }
          : undefined,
        network: {
          natGateways: input.sharing.natGateways,
          adopted: input.sharing.adopted,
          environments: Math.max(1, input.sharing.environments + (input.joining ? 1 : 0)),
        },
      }),
    };
  } catch (e) {
    if (e instanceof CostEstimateError) return { ok: false, reason: e.message };
    throw e;
  }
}

export function networkEstimate(input: {
  region: string;
  natGateways: number;
  adopted: boolean;
}): EstimateResult {
  try {
    return { ok: true, estimate: estimateNetworkCost(input) };
  } catch (e) {
    if (e instanceof CostEstimateError) return { ok: false, reason: e.message };
    throw e;
  }
}

/** The sum of many environments' estimates, and how many could not be estimated (region without prices). */
export function totalOf(results: EstimateResult[]): { total: number; estimated: number; unpriced: number } {
  let cents = 0;
  let estimated = 0;
  for (const r of results) {
    if (!r.ok) continue;
    cents += Math.round(r.estimate.monthlyTotal * 100);
    estimated++;
  }
  return { total: cents / 100, estimated, unpriced: results.length - estimated };
}

export const usd = (n: number) =>
  new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(n);
