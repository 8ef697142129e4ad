// The shared network of one (account, region): a VPC with a public and a private subnet per availability
// zone, an internet gateway, NAT gateways (one for the whole VPC, or one per AZ) and a free S3 gateway
// endpoint — or an existing VPC adopted as it is. Every environment of the region places its security groups,
// load balancers and tasks in it (it reads this stack's outputs through a StackReference), so environments
// create no VPC, NAT gateway or Elastic IP of their own.
//
//   public  subnet AZ a (/22) ── ALBs, NAT gateway(s) ──▶ internet gateway
//   private subnet AZ a (/19) ── tasks, internal NLBs ──▶ NAT gateway (of AZ a, or the single one)
//   … the same per further AZ
//
// Private subnets are /19 (8,187 usable addresses each): every Fargate task takes one address (its ENI), and
// internal NLBs take one per AZ, so the subnets are sized for many environments, not for one.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { existingNetworkSchema, networkCidrSchema, networkNameSchema } from "../spec";
import { type ArgsIssue, toIssues } from "./args";
import { named, type Tags } from "./tags";

export const PLATFORM_NETWORK_TYPE = "platform:aws:Network";
export const DEFAULT_NETWORK_CIDR = "10.0.0.0/16";

/** What AWS said about an adopted VPC (looked up by the network program before the component is built). */
export interface AdoptedNetworkFacts {
  /** The private subnets' AZs, in the order of `existing.privateSubnetIds`. */
  availabilityZones: string[];
  cidrBlock: string;
  /** Distinct NAT gateways the private subnets route through. */
  natGatewayIds: string[];
}

export const platformNetworkArgsSchema = z
  .object({
    name: networkNameSchema,
    owner: z.string().min(1).max(256),
    availabilityZones: z.number().int().min(2).max(3).default(2),
    natGateways: z.enum(["single", "onePerAz"]).default("single"),
    cidrBlock: networkCidrSchema.default(DEFAULT_NETWORK_CIDR),
    existing: existingNetworkSchema.optional(),
  })
  .strict();

export type PlatformNetworkArgs = z.input<typeof platformNetworkArgsSchema> & {
  /** Required with `existing`: what the program found out about it (see adoptedNetworkFacts). */
  adopted?: AdoptedNetworkFacts;
};

export class NetworkArgsError extends Error {
  readonly issues: ArgsIssue[];
  constructor(issues: ArgsIssue[], heading = "Invalid network") {
    // One line: a Pulumi run reports the first line of a program's error.
    super(`${heading}: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`);
    this.name = "NetworkArgsError";
    this.issues = issues;
  }
}

/** The subnet ranges of AZ `index` in a /16: private /19s from .0.0, public /22s from .96.0. */
export function subnetCidrs(cidrBlock: string, index: number): { private: string; public: string } {
  const [a, b] = cidrBlock.split(".");
  return { private: `${a}.${b}.${index * 32}.0/19`, public: `${a}.${b}.${96 + index * 4}.0/22` };
}

export interface PlatformNetworkOutputs {
  vpcId: pulumi.Output<string>;
  privateSubnetIds: pulumi.Output<string[]>;
  publicSubnetIds: pulumi.Output<string[]>;
  availabilityZones: pulumi.Output<string[]>;
  cidrBlock: pulumi.Output<string>;
  adopted: pulumi.Output<boolean>;
  natGatewayCount: pulumi.Output<number>;
  natGateways: pulumi.Output<"single" | "onePerAz" | "adopted">;
}

export class PlatformNetwork extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly privateSubnetIds: pulumi.Output<string[]>;
  readonly publicSubnetIds: pulumi.Output<string[]>;
  readonly availabilityZones: pulumi.Output<string[]>;
  readonly cidrBlock: pulumi.Output<string>;
  readonly adopted: pulumi.Output<boolean>;
  readonly natGatewayCount: pulumi.Output<number>;
  readonly natGateways: pulumi.Output<"single" | "onePerAz" | "adopted">;

  outputs(): PlatformNetworkOutputs {
    return {
      vpcId: this.vpcId,
      privateSubnetIds: this.privateSubnetIds,
      publicSubnetIds: this.publicSubnetIds,
      availabilityZones: this.availabilityZones,
      cidrBlock: this.cidrBlock,
      adopted: this.adopted,
      natGatewayCount: this.natGatewayCount,
      natGateways: this.natGateways,
    };
  }

  /** @throws NetworkArgsError on invalid args, before any resource is registered. */
  constructor(name: string, args: PlatformNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    const { adopted: facts, ...plain } = args;
    const parsed = platformNetworkArgsSchema.safeParse(plain);
    if (!parsed.success) throw new NetworkArgsError(toIssues(parsed.error));
    const a = parsed.data;
    if (a.existing && !facts) {
      throw new NetworkArgsError([
        { path: "existing", message: "an adopted network needs its facts (see adoptedNetworkFacts)" },
      ]);
    }
    super(PLATFORM_NETWORK_TYPE, name, {}, opts);
    const tags: Tags = { Network: a.name, Owner: a.owner, ManagedBy: "platform-portal" };

    if (a.existing && facts) {
      // Adopted: nothing is created or changed; the stack only publishes the VPC for environments.
      this.vpcId = pulumi.output(a.existing.vpcId);
      this.privateSubnetIds = pulumi.output(a.existing.privateSubnetIds);
      this.publicSubnetIds = pulumi.output(a.existing.publicSubnetIds);
      this.availabilityZones = pulumi.output([...new Set(facts.availabilityZones)]);
      this.cidrBlock = pulumi.output(facts.cidrBlock);
      this.adopted = pulumi.output(true);
      this.natGatewayCount = pulumi.output(facts.natGatewayIds.length);
      this.natGateways = pulumi.output("adopted" as const);
    } else {
      const created = this.createVpc(a, tags);
      this.vpcId = created.vpcId;
      this.privateSubnetIds = created.privateSubnetIds;
      this.publicSubnetIds = created.publicSubnetIds;
      this.availabilityZones = created.availabilityZones;
      this.cidrBlock = pulumi.output(a.cidrBlock);
      this.adopted = pulumi.output(false);
      this.natGatewayCount = pulumi.output(created.natGatewayCount);
      this.natGateways = pulumi.output(a.natGateways);
    }
    this.registerOutputs(this.outputs());
  }

  private createVpc(a: z.output<typeof platformNetworkArgsSchema>, tags: Tags) {
    const parent: pulumi.Resource = this as pulumi.Resource;
    const n = a.name;
    const zones = aws
      .getAvailabilityZonesOutput(
        // Only the zones every account has (Local Zones and Wavelength Zones are opt-in).
        { state: "available", filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] },
        { parent },
      )
      .names.apply((names) => {
        if (names.length < a.availabilityZones) {
          throw new Error(
            `network ${n}: the region has ${names.length} availability zones, ${a.availabilityZones} were asked for`,
          );
        }
        return names.slice(0, a.availabilityZones);
      });

    const vpc = new aws.ec2.Vpc(
      n,
      {
        cidrBlock: a.cidrBlock,
        // Interface endpoints and private DNS (ECR, Secrets Manager, RDS) need both.
        enableDnsHostnames: true,
        enableDnsSupport: true,
        tags: named(tags, n),
      },
      { parent },
    );
    const igw = new aws.ec2.InternetGateway(n, { vpcId: vpc.id, tags: named(tags, n) }, { parent });
    const publicRoutes = new aws.ec2.RouteTable(
      `${n}-public`,
      {
        vpcId: vpc.id,
        routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
        tags: named(tags, `${n}-public`),
      },
      { parent },
    );

    const publicSubnets: aws.ec2.Subnet[] = [];
    const privateSubnets: aws.ec2.Subnet[] = [];
    for (let i = 0; i < a.availabilityZones; i++) {
      const cidrs = subnetCidrs(a.cidrBlock, i);
      const az = zones.apply((z) => z[i] as string);
      const pub = new aws.ec2.Subnet(
        `${n}-public-${i}`,
        {
          vpcId: vpc.id,
          cidrBlock: cidrs.public,
          availabilityZone: az,
          // Only load balancers and NAT gateways live here; neither needs launch-time public IPs.
          mapPublicIpOnLaunch: false,
          tags: { ...named(tags, `${n}-public-${i}`), Tier: "public" },
        },
        { parent },
      );
      new aws.ec2.RouteTableAssociation(
        `${n}-public-${i}`,
        { subnetId: pub.id, routeTableId: publicRoutes.id },
        { parent },
      );
      publicSubnets.push(pub);
      privateSubnets.push(
        new aws.ec2.Subnet(
          `${n}-private-${i}`,
          {
            vpcId: vpc.id,
            cidrBlock: cidrs.private,
            availabilityZone: az,
            mapPublicIpOnLaunch: false,
            tags: { ...named(tags, `${n}-private-${i}`), Tier: "private" },
          },
          { parent },
        ),
      );
    }

    // NAT gateways: one in the first public subnet, or one in each. Each has an Elastic IP: the only EIPs of
    // the whole platform in this region (the default quota is 5 per region).
    const natCount = a.natGateways === "onePerAz" ? a.availabilityZones : 1;
    const nats: aws.ec2.NatGateway[] = [];
    for (let i = 0; i < natCount; i++) {
      const eip = new aws.ec2.Eip(
        `${n}-nat-${i}`,
        { domain: "vpc", tags: named(tags, `${n}-nat-${i}`) },
        { parent },
      );
      nats.push(
        new aws.ec2.NatGateway(
          `${n}-nat-${i}`,
          {
            allocationId: eip.id,
            subnetId: (publicSubnets[i] as aws.ec2.Subnet).id,
            connectivityType: "public",
            tags: named(tags, `${n}-nat-${i}`),
          },
          // The NAT gateway needs the internet gateway attached before it can reach the internet.
          { parent, dependsOn: [igw] },
        ),
      );
    }

    const privateRouteTables: aws.ec2.RouteTable[] = [];
    privateSubnets.forEach((subnet, i) => {
      const nat = nats[a.natGateways === "onePerAz" ? i : 0] as aws.ec2.NatGateway;
      const table = new aws.ec2.RouteTable(
        `${n}-private-${i}`,
        {
          vpcId: vpc.id,
          routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }],
          tags: named(tags, `${n}-private-${i}`),
        },
        { parent },
      );
      new aws.ec2.RouteTableAssociation(
        `${n}-private-${i}`,
        { subnetId: subnet.id, routeTableId: table.id },
        { parent },
      );
      privateRouteTables.push(table);
    });

    // Free: S3 traffic (ECR image layers are stored in S3) skips the NAT gateways' per-GB processing charge.
    new aws.ec2.VpcEndpoint(
      `${n}-s3`,
      {
        vpcId: vpc.id,
        // Looked up: the name differs by partition.
        serviceName: aws.ec2.getVpcEndpointServiceOutput(
          { service: "s3", serviceType: "Gateway" },
          { parent },
        ).serviceName,
        vpcEndpointType: "Gateway",
        routeTableIds: privateRouteTables.map((t) => t.id),
        tags: named(tags, `${n}-s3`),
      },
      { parent },
    );

    return {
      vpcId: vpc.id,
      privateSubnetIds: pulumi.all(privateSubnets.map((s) => s.id)),
      publicSubnetIds: pulumi.all(publicSubnets.map((s) => s.id)),
      availabilityZones: zones,
      natGatewayCount: natCount,
    };
  }
}

// ---- adopting an existing VPC: what must hold, checked against AWS before anything is registered ----

interface SubnetFacts {
  id: string;
  vpcId: string;
  availabilityZone: string;
  /** Targets of the subnet's default route (0.0.0.0/0): `nat-…`, `igw-…`, `tgw-…`, `eni-…`; empty if none. */
  defaultRoute: string | undefined;
}

/** Looks up the subnets and their route tables (explicit association, else the VPC's main table). */
async function lookUpSubnet(id: string, vpcId: string, opts: pulumi.InvokeOptions): Promise<SubnetFacts> {
  const subnet = await aws.ec2.getSubnet({ id }, opts);
  let table: aws.ec2.GetRouteTableResult;
  try {
    table = await aws.ec2.getRouteTable({ subnetId: id }, opts);
  } catch {
    // No explicit association: the subnet uses its VPC's main route table.
    table = await aws.ec2.getRouteTable(
      { vpcId, filters: [{ name: "association.main", values: ["true"] }] },
      opts,
    );
  }
  const route = (table.routes ?? []).find((r) => r.cidrBlock === "0.0.0.0/0");
  const target =
    route?.natGatewayId ||
    route?.gatewayId ||
    route?.transitGatewayId ||
    route?.networkInterfaceId ||
    undefined;
  return { id, vpcId: subnet.vpcId, availabilityZone: subnet.availabilityZone, defaultRoute: target };
}

/**
 * Checks an existing VPC against what environments need, and returns its facts for PlatformNetwork:
 * every subnet in that VPC; private subnets in at least two AZs, each routing 0.0.0.0/0 to a NAT gateway (or
 * a transit gateway / appliance) so tasks can pull images; public subnets routing to an internet gateway and
 * covering every private subnet's AZ (an ALB only sends traffic to targets in the AZs it is enabled in).
 * @throws NetworkArgsError listing every problem.
 */
export async function adoptedNetworkFacts(
  existing: z.output<typeof existingNetworkSchema>,
  opts: pulumi.InvokeOptions,
): Promise<AdoptedNetworkFacts> {
  const vpc = await aws.ec2.getVpc({ id: existing.vpcId }, opts);
  const [privates, publics] = await Promise.all([
    Promise.all(existing.privateSubnetIds.map((id) => lookUpSubnet(id, existing.vpcId, opts))),
    Promise.all(existing.publicSubnetIds.map((id) => lookUpSubnet(id, existing.vpcId, opts))),
  ]);
  const issues: ArgsIssue[] = [];
  for (const [key, list] of [
    ["privateSubnetIds", privates],
    ["publicSubnetIds", publics],
  ] as const) {
    for (const s of list) {
      if (s.vpcId !== existing.vpcId) {
        issues.push({
          path: `existing.${key}`,
          message: `${s.id} belongs to ${s.vpcId}, not ${existing.vpcId}`,
        });
      }
    }
    const zones = new Set(list.map((s) => s.availabilityZone));
    if (zones.size < 2) {
      issues.push({
        path: `existing.${key}`,
        message: `needs subnets in at least 2 availability zones; ${list.map((s) => `${s.id} is in ${s.availabilityZone}`).join(", ")}`,
      });
    }
  }
  for (const s of privates) {
    if (!s.defaultRoute || s.defaultRoute.startsWith("igw-")) {
      issues.push({
        path: "existing.privateSubnetIds",
        message: `${s.id} has no default route to a NAT gateway (${s.defaultRoute ? `it routes to ${s.defaultRoute}: a public subnet` : "no 0.0.0.0/0 route"}); tasks there could not pull images or reach CloudWatch Logs and Secrets Manager`,
      });
    }
  }
  for (const s of publics) {
    if (!s.defaultRoute?.startsWith("igw-")) {
      issues.push({
        path: "existing.publicSubnetIds",
        message: `${s.id} has no default route to an internet gateway; a public load balancer there would be unreachable`,
      });
    }
  }
  const publicZones = new Set(publics.map((s) => s.availabilityZone));
  const uncovered = [...new Set(privates.map((s) => s.availabilityZone))].filter((z) => !publicZones.has(z));
  if (uncovered.length > 0) {
    issues.push({
      path: "existing.publicSubnetIds",
      message: `no public subnet in ${uncovered.join(", ")}, where private subnets are: the load balancers could not reach tasks there`,
    });
  }
  if (issues.length > 0) throw new NetworkArgsError(issues, `The VPC ${existing.vpcId} cannot be adopted`);
  const natGatewayIds = [
    ...new Set(privates.map((s) => s.defaultRoute).filter((t): t is string => !!t?.startsWith("nat-"))),
  ];
  return {
    availabilityZones: privates.map((s) => s.availabilityZone),
    cidrBlock: vpc.cidrBlock,
    natGatewayIds,
  };
}
