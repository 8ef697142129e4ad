// The cost estimate's arithmetic, checked against cases computed by hand from the committed price table.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  CostEstimateError,
  estimateEnvironmentCost,
  estimateNetworkCost,
  formatUsd,
  PRICE_TABLE,
  pricedRegions,
} from "../../src/cost";
import { CACHE_NODE_TYPES, DATABASE_INSTANCE_CLASSES } from "../../src/spec";

const byKey = (items: { key: string; monthly: number }[]) =>
  Object.fromEntries(items.map((l) => [l.key, l.monthly]));

describe("environment estimate", () => {
  it("matches the hand-computed case: us-east-1, 2 frontends + 1 Redis (0.25 vCPU, 0.5 GB), network shared by 4", () => {
    const estimate = estimateEnvironmentCost({
      region: "us-east-1",
      frontendReplicas: 2,
      redisReplicas: 1,
      network: { natGateways: 1, environments: 4 },
    });
    // By hand, 730 h a month:
    //   one task-hour = 0.25 × 0.04048 + 0.5 × 0.004445 = 0.01012 + 0.0022225 = 0.0123425 → 9.010025 a month
    //   frontends 2 × 9.010025 = 18.02005 → 18.02;     Redis 1 × 9.010025 → 9.01
    //   ALB 730 × 0.0225 = 16.425 → 16.43;  1 LCU 730 × 0.008 = 5.84;  2 IPv4 2 × 730 × 0.005 = 7.30
    //   NLB 730 × 0.0225 = 16.425 → 16.43;  1 NLCU 730 × 0.006 = 4.38;  secret 0.40
    //   NAT data 5 GB × 0.045 = 0.225 → 0.23
    //   network: NAT 730 × 0.045 = 32.85 + its EIP 730 × 0.005 = 3.65 → 36.50 / 4 = 9.125 → 9.13
    expect(byKey(estimate.lineItems)).toEqual({
      "frontend-tasks": 18.02,
      "redis-tasks": 9.01,
      "alb-hours": 16.43,
      "alb-lcu": 5.84,
      "alb-ipv4": 7.3,
      "nlb-hours": 16.43,
      "nlb-lcu": 4.38,
      secret: 0.4,
      "nat-data": 0.23,
      "network-share": 9.13,
    });
    // 18.02 + 9.01 + 16.43 + 5.84 + 7.30 + 16.43 + 4.38 + 0.40 + 0.23 + 9.13
    expect(estimate.monthlyTotal).toBe(87.17);
    expect(formatUsd(estimate.monthlyTotal)).toBe("$87.17");
    expect(estimate).toMatchObject({
      region: "us-east-1",
      currency: "USD",
      prices: { date: PRICE_TABLE.date },
    });
    expect(estimate.lineItems.find((l) => l.key === "frontend-tasks")).toMatchObject({
      label: "Frontend tasks (2 × 0.25 vCPU, 0.5 GB)",
      detail: "2 × 730 h × ($0.04048 × 0.25 vCPU + $0.004445 × 0.5 GB)",
    });
    expect(estimate.lineItems.find((l) => l.key === "network-share")?.label).toBe(
      "Network: share of its NAT gateways (1/4)",
    );
    expect(estimate.assumptions.join(" ")).toMatch(/1 ALB LCU and 1 NLB NLCU per hour/);
  });

  it("updates with the replica counts and task sizes (eu-central-1, 4 frontends of 1 vCPU / 2 GB)", () => {
    const estimate = estimateEnvironmentCost({
      region: "eu-central-1",
      frontendReplicas: 4,
      redisReplicas: 3,
      frontend: { cpu: 1024, memory: 2048 },
    });
    // 4 × 730 × (1 × 0.04656 + 2 × 0.00511) = 4 × 730 × 0.05678 = 165.7976 → 165.80
    // Redis 3 × 730 × (0.25 × 0.04656 + 0.5 × 0.00511) = 3 × 730 × 0.014195 = 31.08705 → 31.09
    expect(byKey(estimate.lineItems)["frontend-tasks"]).toBe(165.8);
    expect(byKey(estimate.lineItems)["redis-tasks"]).toBe(31.09);
    // A network used by this environment only: all of its NAT (730 × 0.052 + 730 × 0.005 = 37.96 + 3.65 = 41.61).
    expect(byKey(estimate.lineItems)["network-share"]).toBe(41.61);
    const sum = estimate.lineItems.reduce((s, l) => s + Math.round(l.monthly * 100), 0) / 100;
    expect(estimate.monthlyTotal).toBe(sum);
  });

  it("an option adds its own line items: ElastiCache replaces Redis tasks and the NLB; RDS adds instance and storage", () => {
    const estimate = estimateEnvironmentCost({
      region: "us-east-1",
      frontendReplicas: 2,
      redisReplicas: 2,
      cache: { kind: "elasticache", nodeType: "cache.t4g.small" },
      database: { instanceClass: "db.t4g.micro", storageGb: 20, multiAz: true },
    });
    const items = byKey(estimate.lineItems);
    expect(items["redis-tasks"]).toBeUndefined();
    expect(items["nlb-hours"]).toBeUndefined();
    // 2 nodes × 730 × 0.032 = 46.72
    expect(items["elasticache-nodes"]).toBe(46.72);
    // Multi-AZ: 730 × 0.016 × 2 = 23.36; storage 20 × 0.115 × 2 = 4.60
    expect(items["rds-instance"]).toBe(23.36);
    expect(items["rds-storage"]).toBe(4.6);
    // RDS's own secret for the password: 0.40
    expect(items["rds-secret"]).toBe(0.4);
  });

  it("adds nothing for the network of an adopted VPC (billed to its owner) and says so", () => {
    const estimate = estimateEnvironmentCost({
      region: "us-east-1",
      frontendReplicas: 1,
      redisReplicas: 1,
      network: { natGateways: 0, environments: 3, adopted: true },
    });
    expect(byKey(estimate.lineItems)["network-share"]).toBeUndefined();
    expect(byKey(estimate.lineItems)["nat-data"]).toBeUndefined();
    expect(estimate.assumptions.join(" ")).toMatch(/adopted VPC/);
  });

  it("takes the spec's options as they are, with the spec's defaults", () => {
    const withSpec = estimateEnvironmentCost({
      region: "us-east-1",
      frontendReplicas: 1,
      redisReplicas: 2,
      cache: { kind: "elasticache" },
      database: { instanceClass: undefined },
    });
    const items = byKey(withSpec.lineItems);
    // cache.t4g.micro: 2 × 730 × 0.016 = 23.36; db.t4g.micro 730 × 0.016 = 11.68; 20 GB × 0.115 = 2.30
    expect(items["elasticache-nodes"]).toBe(23.36);
    expect(items["rds-instance"]).toBe(11.68);
    expect(items["rds-storage"]).toBe(2.3);
    const redis = estimateEnvironmentCost({
      region: "us-east-1",
      frontendReplicas: 1,
      redisReplicas: 2,
      cache: { kind: "redis" },
    });
    expect(byKey(redis.lineItems)["redis-tasks"]).toBeGreaterThan(0);
  });

  it("refuses a region outside the table with a clear error", () => {
    const run = () =>
      estimateEnvironmentCost({ region: "ap-south-2", frontendReplicas: 1, redisReplicas: 1 });
    expect(run).toThrow(CostEstimateError);
    expect(run).toThrow(
      `no prices for region ap-south-2: the price table (${PRICE_TABLE.date}) covers ${pricedRegions().join(", ")}; add the region to packages/infra/src/cost/prices.ts`,
    );
  });

  it("refuses an option the table has no price for, and bad input", () => {
    expect(() =>
      estimateEnvironmentCost({
        region: "us-east-1",
        frontendReplicas: 1,
        redisReplicas: 1,
        cache: { kind: "elasticache", nodeType: "cache.x9.huge" },
      }),
    ).toThrow(/no price for ElastiCache node type cache.x9.huge in us-east-1/);
    expect(() =>
      estimateEnvironmentCost({ region: "us-east-1", frontendReplicas: -1, redisReplicas: 1 }),
    ).toThrow(/invalid cost estimate input: frontendReplicas/);
    expect(() =>
      estimateEnvironmentCost({
        region: "us-east-1",
        frontendReplicas: 1,
        redisReplicas: 1,
        frontend: { cpu: 256, memory: 4096 },
      }),
    ).toThrow(/frontend: not a Fargate CPU\/memory pair/);
  });
});

describe("network estimate", () => {
  it("is its NAT gateways and their Elastic IPs: one per AZ in eu-west-1", () => {
    const estimate = estimateNetworkCost({ region: "eu-west-1", natGateways: 2 });
    // 2 × 730 × 0.048 = 70.08; 2 × 730 × 0.005 = 7.30
    expect(byKey(estimate.lineItems)).toEqual({ "nat-hours": 70.08, "nat-ipv4": 7.3 });
    expect(estimate.monthlyTotal).toBe(77.38);
  });

  it("is nothing for an adopted VPC", () => {
    expect(estimateNetworkCost({ region: "eu-west-1", natGateways: 2, adopted: true }).monthlyTotal).toBe(0);
  });
});

describe("the price table", () => {
  it("states its date and source, and prices every region completely", () => {
    expect(PRICE_TABLE.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(PRICE_TABLE.source).toMatch(/AWS/);
    const classes = (r: string) => ({
      cache: Object.keys(PRICE_TABLE.regions[r]?.elasticacheNodeHour ?? {}).sort(),
      db: Object.keys(PRICE_TABLE.regions[r]?.rdsPostgresInstanceHour ?? {}).sort(),
    });
    const first = pricedRegions()[0] as string;
    for (const region of pricedRegions()) {
      const p = PRICE_TABLE.regions[region];
      for (const value of [
        p?.fargate.vcpuHour,
        p?.fargate.gbHour,
        p?.alb.hour,
        p?.nlb.hour,
        p?.natGateway.hour,
      ]) {
        expect(value, region).toBeGreaterThan(0);
      }
      // Every region prices the same option classes, so the portal can offer one list: the spec's.
      expect(classes(region), region).toEqual(classes(first));
      expect(classes(region), region).toEqual({
        cache: [...CACHE_NODE_TYPES].sort(),
        db: [...DATABASE_INSTANCE_CLASSES].sort(),
      });
    }
  });

  it("is importable without Pulumi or Node APIs (the portal's browser code uses it)", () => {
    const dist = path.resolve(__dirname, "../../dist/cost/index.js");
    const loaded = execFileSync(
      process.execPath,
      ["-e", `require(${JSON.stringify(dist)}); console.log(JSON.stringify(Object.keys(require.cache)))`],
      { encoding: "utf8" },
    );
    const files = JSON.parse(loaded) as string[];
    const outside = files.filter(
      (f) => !f.includes(`${path.sep}zod${path.sep}`) && !f.includes(`${path.sep}dist${path.sep}`),
    );
    expect(outside).toEqual([]);
    expect(files.filter((f) => f.includes("@pulumi"))).toEqual([]);
    for (const f of files.filter((f) => f.includes(`${path.sep}dist${path.sep}`))) {
      // The spec's option lists and defaults (spec.ts and what it imports are zod only too).
      expect(f).toMatch(/dist\/(cost\/|task-sizes\.js|spec\.js|environment-name\.js)/);
    }
  });
});
