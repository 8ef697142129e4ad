// Monthly cost estimates of AWS environments and networks, from the committed price table. Pure functions
// (zod only): the portal runs them in the browser as the create form changes, and on the server for lists.
//
// An estimate is a list of line items, each produced by one rule. An environment option (a managed cache, a
// database, …) adds its own rule and so its own line items; nothing else changes.
import { z } from "zod";
import { CACHE_NODE_TYPES, DATABASE_INSTANCE_CLASSES, DATABASE_STORAGE_GB } from "../spec";
import { DEFAULT_TASK_SIZE, FARGATE_SIZES } from "../task-sizes";
import { PRICE_TABLE, type PriceTable, type RegionPrices, USAGE_ASSUMPTIONS } from "./prices";

export class CostEstimateError extends Error {
  override readonly name = "CostEstimateError";
}

export interface LineItem {
  /** Stable id of the rule and part, e.g. "frontend-tasks", "alb-hours". */
  key: string;
  /** What a person reads: "Frontend tasks (2 × 0.25 vCPU, 0.5 GB)". */
  label: string;
  /** How it was computed: "2 tasks × 730 h × ($0.04048 × 0.25 + $0.004445 × 0.5)". */
  detail: string;
  /** USD per month, rounded to cents. */
  monthly: number;
}

export interface CostEstimate {
  region: string;
  currency: "USD";
  /** Sum of the line items (each rounded to cents, so the lines add up to it). */
  monthlyTotal: number;
  lineItems: LineItem[];
  /** What the figures assume where AWS bills by use, and what they leave out. */
  assumptions: string[];
  prices: { date: string; source: string };
}

const taskSizeSchema = z
  .object({ cpu: z.number().int(), memory: z.number().int() })
  .refine((s) => FARGATE_SIZES[s.cpu]?.includes(s.memory), "not a Fargate CPU/memory pair");

/** How the region's network is shared: its NAT gateways' hours are split across its environments. */
export const networkShareSchema = z.object({
  /** NAT gateways the network runs (1, or one per AZ); 0 for an adopted VPC (its costs are billed elsewhere). */
  natGateways: z.number().int().min(0).max(6),
  /** Environments sharing the network, this one included (at least 1). */
  environments: z.number().int().min(1),
  /** An adopted VPC: nothing of it is paid through the platform. */
  adopted: z.boolean().default(false),
});

export const environmentCostInputSchema = z.object({
  region: z.string().min(1),
  frontendReplicas: z.number().int().min(0),
  /** Redis tasks (writer + replicas) on Fargate; with a managed cache, its nodes. */
  redisReplicas: z.number().int().min(0),
  frontend: taskSizeSchema.default({ ...DEFAULT_TASK_SIZE }),
  redis: taskSizeSchema.default({ ...DEFAULT_TASK_SIZE }),
  /** AZs the public ALB spans (one public IPv4 address each). */
  availabilityZones: z.number().int().min(2).max(6).default(2),
  network: networkShareSchema.default({ natGateways: 1, environments: 1, adopted: false }),
  /**
   * The spec's `cache` (EnvironmentSpec.cache, its defaults too): `redis` (Redis tasks on Fargate, the
   * default) or a managed ElastiCache replication group of `redisReplicas` nodes.
   */
  cache: z
    .discriminatedUnion("kind", [
      z.object({ kind: z.literal("redis") }),
      z.object({
        kind: z.literal("elasticache"),
        nodeType: z.string().min(1).default(CACHE_NODE_TYPES[0]),
      }),
    ])
    .default({ kind: "redis" }),
  /** The spec's `database` (a PostgreSQL database on RDS; its other fields cost nothing extra here). */
  database: z
    .object({
      instanceClass: z.string().min(1).default(DATABASE_INSTANCE_CLASSES[0]),
      storageGb: z.number().int().min(20).max(65536).default(DATABASE_STORAGE_GB.default),
      multiAz: z.boolean().default(false),
    })
    .optional(),
});

export type EnvironmentCostInput = z.input<typeof environmentCostInputSchema>;
type Input = z.output<typeof environmentCostInputSchema>;

export const networkCostInputSchema = z.object({
  region: z.string().min(1),
  natGateways: z.number().int().min(0).max(6),
  adopted: z.boolean().default(false),
});
export type NetworkCostInput = z.input<typeof networkCostInputSchema>;

// ---- arithmetic ----

/** USD → cents, half up, robust to binary fractions (16.425 → 1643, not 1642). */
const cents = (usd: number) => Math.round(Number((usd * 100).toFixed(6)));
const usd = (c: number) => c / 100;
/** A price as written in a line's detail: full precision, but at least cents ($0.40, $0.04048). */
const money = (n: number) => `$${Number.isInteger(Math.round(n * 1e6) / 1e4) ? n.toFixed(2) : n}`;
const vcpu = (cpu: number) => cpu / 1024;
const gb = (memory: number) => memory / 1024;

function line(key: string, label: string, detail: string, monthlyUsd: number): LineItem {
  return { key, label, detail, monthly: usd(cents(monthlyUsd)) };
}

function pricesFor(region: string, table: PriceTable): RegionPrices {
  const prices = table.regions[region];
  if (!prices) {
    throw new CostEstimateError(
      `no prices for region ${region}: the price table (${table.date}) covers ${Object.keys(table.regions).join(", ")}; add the region to packages/infra/src/cost/prices.ts`,
    );
  }
  return prices;
}

function parseInput<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new CostEstimateError(
      `invalid cost estimate input: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(input)"}: ${i.message}`).join("; ")}`,
    );
  }
  return parsed.data;
}

// ---- line-item rules: one per part of an environment ----

interface RuleContext {
  p: RegionPrices;
  hours: number;
}

type Rule = (input: Input, ctx: RuleContext) => LineItem[];

function fargateTasks(
  key: string,
  what: string,
  count: number,
  size: { cpu: number; memory: number },
  ctx: RuleContext,
) {
  if (count === 0) return [];
  const { vcpuHour, gbHour } = ctx.p.fargate;
  const perHour = vcpuHour * vcpu(size.cpu) + gbHour * gb(size.memory);
  return [
    line(
      key,
      `${what} (${count} × ${vcpu(size.cpu)} vCPU, ${gb(size.memory)} GB)`,
      `${count} × ${ctx.hours} h × (${money(vcpuHour)} × ${vcpu(size.cpu)} vCPU + ${money(gbHour)} × ${gb(size.memory)} GB)`,
      count * ctx.hours * perHour,
    ),
  ];
}

const RULES: Rule[] = [
  // The voting app's tasks.
  (i, ctx) => fargateTasks("frontend-tasks", "Frontend tasks", i.frontendReplicas, i.frontend, ctx),
  // Redis on Fargate (the default cache).
  (i, ctx) =>
    i.cache.kind === "redis" ? fargateTasks("redis-tasks", "Redis tasks", i.redisReplicas, i.redis, ctx) : [],
  // The public ALB: hours, LCUs, and a public IPv4 address per AZ.
  (i, { p, hours }) => [
    line("alb-hours", "Application Load Balancer", `${hours} h × ${money(p.alb.hour)}`, hours * p.alb.hour),
    line(
      "alb-lcu",
      `ALB capacity (${USAGE_ASSUMPTIONS.albLcuPerHour} LCU assumed)`,
      `${hours} h × ${USAGE_ASSUMPTIONS.albLcuPerHour} LCU × ${money(p.alb.lcuHour)}`,
      hours * USAGE_ASSUMPTIONS.albLcuPerHour * p.alb.lcuHour,
    ),
    line(
      "alb-ipv4",
      `ALB public IPv4 addresses (${i.availabilityZones})`,
      `${i.availabilityZones} × ${hours} h × ${money(p.publicIpv4Hour)}`,
      i.availabilityZones * hours * p.publicIpv4Hour,
    ),
  ],
  // The internal NLB in front of Redis on Fargate (a managed cache has its own endpoints).
  (i, { p, hours }) =>
    i.cache.kind !== "redis"
      ? []
      : [
          line(
            "nlb-hours",
            "Network Load Balancer (Redis)",
            `${hours} h × ${money(p.nlb.hour)}`,
            hours * p.nlb.hour,
          ),
          line(
            "nlb-lcu",
            `NLB capacity (${USAGE_ASSUMPTIONS.nlbLcuPerHour} NLCU assumed)`,
            `${hours} h × ${USAGE_ASSUMPTIONS.nlbLcuPerHour} NLCU × ${money(p.nlb.nlcuHour)}`,
            hours * USAGE_ASSUMPTIONS.nlbLcuPerHour * p.nlb.nlcuHour,
          ),
        ],
  // The Redis password in Secrets Manager.
  (_i, { p }) => [
    line("secret", "Secrets Manager secret (Redis password)", `1 × ${money(p.secretMonth)}`, p.secretMonth),
  ],
  // A managed cache: ElastiCache nodes instead of Redis tasks and the NLB.
  (i, { p, hours }) => {
    if (i.cache.kind !== "elasticache") return [];
    const price = p.elasticacheNodeHour[i.cache.nodeType];
    if (price === undefined) {
      throw new CostEstimateError(
        `no price for ElastiCache node type ${i.cache.nodeType} in ${i.region}: the table has ${Object.keys(p.elasticacheNodeHour).join(", ")}`,
      );
    }
    return [
      line(
        "elasticache-nodes",
        `ElastiCache nodes (${i.redisReplicas} × ${i.cache.nodeType})`,
        `${i.redisReplicas} × ${hours} h × ${money(price)}`,
        i.redisReplicas * hours * price,
      ),
    ];
  },
  // A database: RDS for PostgreSQL instance and storage (Multi-AZ doubles both).
  (i, { p, hours }) => {
    if (!i.database) return [];
    const { instanceClass, storageGb, multiAz } = i.database;
    const price = p.rdsPostgresInstanceHour[instanceClass];
    if (price === undefined) {
      throw new CostEstimateError(
        `no price for RDS instance class ${instanceClass} in ${i.region}: the table has ${Object.keys(p.rdsPostgresInstanceHour).join(", ")}`,
      );
    }
    const copies = multiAz ? 2 : 1;
    const az = multiAz ? " × 2 (Multi-AZ)" : "";
    return [
      line(
        "rds-instance",
        `PostgreSQL on RDS (${instanceClass}${multiAz ? ", Multi-AZ" : ""})`,
        `${hours} h × ${money(price)}${az}`,
        hours * price * copies,
      ),
      line(
        "rds-storage",
        `RDS storage (${storageGb} GB gp3)`,
        `${storageGb} GB × ${money(p.rdsStorageGbMonth)}${az}`,
        storageGb * p.rdsStorageGbMonth * copies,
      ),
      // RDS keeps the master password in a Secrets Manager secret of its own (billed like any secret).
      line(
        "rds-secret",
        "Secrets Manager secret (database password, kept by RDS)",
        `1 × ${money(p.secretMonth)}`,
        p.secretMonth,
      ),
    ];
  },
  // The network: this environment's traffic through the NAT, and its share of the NAT gateways' hours.
  (i, ctx) => {
    if (i.network.adopted) return [];
    const { p } = ctx;
    const gbMonth = USAGE_ASSUMPTIONS.natGbPerEnvironmentMonth;
    const shared = networkLines(i.network.natGateways, ctx);
    const sharedCents = shared.reduce((sum, l) => sum + cents(l.monthly), 0);
    const n = i.network.environments;
    return [
      line(
        "nat-data",
        `NAT data processed (${gbMonth} GB assumed)`,
        `${gbMonth} GB × ${money(p.natGateway.gbProcessed)}`,
        gbMonth * p.natGateway.gbProcessed,
      ),
      line(
        "network-share",
        n === 1 ? "Network: NAT gateways (not shared yet)" : `Network: share of its NAT gateways (1/${n})`,
        `${money(usd(sharedCents))} / ${n} environment${n === 1 ? "" : "s"}`,
        usd(sharedCents) / n,
      ),
    ];
  },
];

/** The fixed monthly cost of a created network: its NAT gateways and their Elastic IPs. */
function networkLines(natGateways: number, { p, hours }: RuleContext): LineItem[] {
  if (natGateways === 0) return [];
  return [
    line(
      "nat-hours",
      `NAT gateways (${natGateways})`,
      `${natGateways} × ${hours} h × ${money(p.natGateway.hour)}`,
      natGateways * hours * p.natGateway.hour,
    ),
    line(
      "nat-ipv4",
      `Elastic IPs of the NAT gateways (${natGateways})`,
      `${natGateways} × ${hours} h × ${money(p.publicIpv4Hour)}`,
      natGateways * hours * p.publicIpv4Hour,
    ),
  ];
}

function total(lineItems: LineItem[]): number {
  return usd(lineItems.reduce((sum, l) => sum + cents(l.monthly), 0));
}

const NOT_INCLUDED =
  "Not included: data transfer out to the internet, CloudWatch Logs and Container Insights, ECR image storage, taxes, and any discount (Savings Plans, Spot).";

/** The monthly estimate of one AWS environment. @throws CostEstimateError (unknown region, bad input). */
export function estimateEnvironmentCost(
  input: EnvironmentCostInput,
  table: PriceTable = PRICE_TABLE,
): CostEstimate {
  const i = parseInput(environmentCostInputSchema, input);
  const ctx: RuleContext = { p: pricesFor(i.region, table), hours: table.hoursPerMonth };
  const lineItems = RULES.flatMap((rule) => rule(i, ctx));
  const assumptions = [
    `Always on: ${table.hoursPerMonth} hours a month, on-demand prices of ${i.region}.`,
    `Load balancer capacity: ${USAGE_ASSUMPTIONS.albLcuPerHour} ALB LCU and ${USAGE_ASSUMPTIONS.nlbLcuPerHour} NLB NLCU per hour (light traffic).`,
    i.network.adopted
      ? "The network is an adopted VPC: its NAT gateways are billed to its owner, not estimated here."
      : `The network's NAT gateways are shared by ${i.network.environments} environment${i.network.environments === 1 ? "" : "s"}; ${USAGE_ASSUMPTIONS.natGbPerEnvironmentMonth} GB a month through the NAT per environment.`,
    ...(i.database
      ? [
          "Database: backup storage up to the database's size is free; more (long retention, final snapshots) and snapshot exports are not included.",
        ]
      : []),
    NOT_INCLUDED,
  ];
  return {
    region: i.region,
    currency: "USD",
    monthlyTotal: total(lineItems),
    lineItems,
    assumptions,
    prices: { date: table.date, source: table.source },
  };
}

/** The monthly fixed cost of a network (what it costs with no environment in it). */
export function estimateNetworkCost(input: NetworkCostInput, table: PriceTable = PRICE_TABLE): CostEstimate {
  const i = parseInput(networkCostInputSchema, input);
  const ctx: RuleContext = { p: pricesFor(i.region, table), hours: table.hoursPerMonth };
  const lineItems = i.adopted ? [] : networkLines(i.natGateways, ctx);
  return {
    region: i.region,
    currency: "USD",
    monthlyTotal: total(lineItems),
    lineItems,
    assumptions: [
      i.adopted
        ? "An adopted VPC: its NAT gateways and addresses are billed to its owner, not estimated here."
        : `Always on: ${table.hoursPerMonth} hours a month. The VPC, subnets, route tables and the S3 gateway endpoint cost nothing; data through the NAT is counted per environment.`,
    ],
    prices: { date: table.date, source: table.source },
  };
}

/** Regions the price table covers (the portal offers estimates for these). */
export function pricedRegions(table: PriceTable = PRICE_TABLE): string[] {
  return Object.keys(table.regions);
}

/** Formats a monthly amount for people: "$87.17". */
export function formatUsd(amount: number): string {
  return new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(amount);
}
