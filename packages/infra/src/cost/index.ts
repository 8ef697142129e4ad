// @platform/infra/cost: monthly cost estimates of AWS environments and networks from a committed price
// table. Depends on zod only, so the portal's browser code can import it.
export {
  type CostEstimate,
  CostEstimateError,
  type EnvironmentCostInput,
  environmentCostInputSchema,
  estimateEnvironmentCost,
  estimateNetworkCost,
  formatUsd,
  type LineItem,
  type NetworkCostInput,
  networkCostInputSchema,
  networkShareSchema,
  pricedRegions,
} from "./estimate";
export { PRICE_TABLE, type PriceTable, type RegionPrices, USAGE_ASSUMPTIONS } from "./prices";
