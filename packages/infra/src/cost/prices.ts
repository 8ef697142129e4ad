// The committed price table the cost estimates use. Estimates never call a pricing API: they must work in
// the browser, offline, and give the same answer every time for the same input.
//
// SOURCE: AWS public on-demand list prices, USD, excluding taxes, as published on the service pricing pages
//   https://aws.amazon.com/fargate/pricing/                 (Linux/x86, per vCPU-hour and per GB-hour)
//   https://aws.amazon.com/elasticloadbalancing/pricing/    (ALB/NLB hour, LCU-hour / NLCU-hour)
//   https://aws.amazon.com/vpc/pricing/                     (NAT gateway hour and GB processed; public IPv4 hour)
//   https://aws.amazon.com/secrets-manager/pricing/         (per secret and month)
//   https://aws.amazon.com/elasticache/pricing/             (on-demand node-hour, Valkey/Redis OSS)
//   https://aws.amazon.com/rds/postgresql/pricing/          (Single-AZ instance-hour; gp3 GB-month)
// DATE: transcribed 2026-11-30. Prices change: re-check a region's row against the AWS Pricing Calculator
// (or `aws pricing get-products --service-code AmazonECS|AWSELB|AmazonEC2|AmazonElastiCache|AmazonRDS`)
// before relying on an estimate for a budget, and move the date when you do.
//
// Adding a region: copy a row and fill every field; an estimate for a region without a row is an error
// (CostEstimateError), never a guess. Adding an ElastiCache node type or RDS instance class: add its hourly
// price to every region's row (the portal offers only what every offered region prices).

export interface RegionPrices {
  /** Display name of the region. */
  label: string;
  fargate: { vcpuHour: number; gbHour: number };
  /** Application Load Balancer: per hour, and per LCU-hour. */
  alb: { hour: number; lcuHour: number };
  /** Network Load Balancer: per hour, and per NLCU-hour. */
  nlb: { hour: number; nlcuHour: number };
  /** NAT gateway: per hour, and per GB processed. */
  natGateway: { hour: number; gbProcessed: number };
  /** Any public IPv4 address (Elastic IP of a NAT gateway, an internet-facing ALB's node addresses). */
  publicIpv4Hour: number;
  /** Secrets Manager, per secret and month. */
  secretMonth: number;
  /** ElastiCache (Valkey / Redis OSS), on-demand, per node-hour. */
  elasticacheNodeHour: Record<string, number>;
  /** RDS for PostgreSQL, Single-AZ, per instance-hour (Multi-AZ: twice). */
  rdsPostgresInstanceHour: Record<string, number>;
  /** RDS gp3 storage per GB-month, Single-AZ (Multi-AZ: twice). */
  rdsStorageGbMonth: number;
}

export interface PriceTable {
  currency: "USD";
  /** When the prices were read (YYYY-MM-DD). */
  date: string;
  source: string;
  /** AWS's own convention for a month of always-on resources. */
  hoursPerMonth: number;
  regions: Record<string, RegionPrices>;
}

const US_FARGATE = { vcpuHour: 0.04048, gbHour: 0.004445 };
const US_ELASTICACHE = {
  "cache.t4g.micro": 0.016,
  "cache.t4g.small": 0.032,
  "cache.t4g.medium": 0.065,
  "cache.m7g.large": 0.158,
  "cache.r7g.large": 0.219,
};
const US_RDS = {
  "db.t4g.micro": 0.016,
  "db.t4g.small": 0.032,
  "db.t4g.medium": 0.065,
  "db.m7g.large": 0.168,
  "db.r7g.large": 0.239,
};

export const PRICE_TABLE: PriceTable = {
  currency: "USD",
  date: "2026-11-30",
  source:
    "AWS public on-demand list prices (Fargate, Elastic Load Balancing, VPC, Secrets Manager, ElastiCache and RDS pricing pages)",
  hoursPerMonth: 730,
  regions: {
    "us-east-1": {
      label: "US East (N. Virginia)",
      fargate: US_FARGATE,
      alb: { hour: 0.0225, lcuHour: 0.008 },
      nlb: { hour: 0.0225, nlcuHour: 0.006 },
      natGateway: { hour: 0.045, gbProcessed: 0.045 },
      publicIpv4Hour: 0.005,
      secretMonth: 0.4,
      elasticacheNodeHour: US_ELASTICACHE,
      rdsPostgresInstanceHour: US_RDS,
      rdsStorageGbMonth: 0.115,
    },
    "us-east-2": {
      label: "US East (Ohio)",
      fargate: US_FARGATE,
      alb: { hour: 0.0225, lcuHour: 0.008 },
      nlb: { hour: 0.0225, nlcuHour: 0.006 },
      natGateway: { hour: 0.045, gbProcessed: 0.045 },
      publicIpv4Hour: 0.005,
      secretMonth: 0.4,
      elasticacheNodeHour: US_ELASTICACHE,
      rdsPostgresInstanceHour: US_RDS,
      rdsStorageGbMonth: 0.115,
    },
    "us-west-2": {
      label: "US West (Oregon)",
      fargate: US_FARGATE,
      alb: { hour: 0.0225, lcuHour: 0.008 },
      nlb: { hour: 0.0225, nlcuHour: 0.006 },
      natGateway: { hour: 0.045, gbProcessed: 0.045 },
      publicIpv4Hour: 0.005,
      secretMonth: 0.4,
      elasticacheNodeHour: US_ELASTICACHE,
      rdsPostgresInstanceHour: US_RDS,
      rdsStorageGbMonth: 0.115,
    },
    "eu-west-1": {
      label: "Europe (Ireland)",
      fargate: US_FARGATE,
      alb: { hour: 0.0252, lcuHour: 0.008 },
      nlb: { hour: 0.0252, nlcuHour: 0.006 },
      natGateway: { hour: 0.048, gbProcessed: 0.048 },
      publicIpv4Hour: 0.005,
      secretMonth: 0.4,
      elasticacheNodeHour: {
        "cache.t4g.micro": 0.0176,
        "cache.t4g.small": 0.0352,
        "cache.t4g.medium": 0.0704,
        "cache.m7g.large": 0.176,
        "cache.r7g.large": 0.243,
      },
      rdsPostgresInstanceHour: {
        "db.t4g.micro": 0.018,
        "db.t4g.small": 0.036,
        "db.t4g.medium": 0.072,
        "db.m7g.large": 0.186,
        "db.r7g.large": 0.266,
      },
      rdsStorageGbMonth: 0.127,
    },
    "eu-central-1": {
      label: "Europe (Frankfurt)",
      fargate: { vcpuHour: 0.04656, gbHour: 0.00511 },
      alb: { hour: 0.027, lcuHour: 0.008 },
      nlb: { hour: 0.027, nlcuHour: 0.006 },
      natGateway: { hour: 0.052, gbProcessed: 0.052 },
      publicIpv4Hour: 0.005,
      secretMonth: 0.4,
      elasticacheNodeHour: {
        "cache.t4g.micro": 0.0184,
        "cache.t4g.small": 0.0368,
        "cache.t4g.medium": 0.0736,
        "cache.m7g.large": 0.184,
        "cache.r7g.large": 0.256,
      },
      rdsPostgresInstanceHour: {
        "db.t4g.micro": 0.019,
        "db.t4g.small": 0.038,
        "db.t4g.medium": 0.076,
        "db.m7g.large": 0.197,
        "db.r7g.large": 0.281,
      },
      rdsStorageGbMonth: 0.137,
    },
  },
};

/**
 * What the estimate assumes where AWS bills by use. Light, always-on test environments: change these and
 * the portal shows the new figures (each is stated next to the estimate).
 */
export const USAGE_ASSUMPTIONS = {
  /** ALB LCUs billed per hour: 1 covers 25 new connections/s, 3,000 active connections, 1 GB/h, 1,000 rule evaluations/s. */
  albLcuPerHour: 1,
  /** NLB NLCUs billed per hour for the internal Redis balancer: 1 covers 800 new TCP flows/s, 100,000 active flows, 1 GB/h. */
  nlbLcuPerHour: 1,
  /** GB an environment sends through the NAT per month (logs, Secrets Manager, ECR API; image layers go through the free S3 endpoint). */
  natGbPerEnvironmentMonth: 5,
} as const;
