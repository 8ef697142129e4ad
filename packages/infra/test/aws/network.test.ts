// The shared network of a region: what the network stack creates (or adopts), and how environments consume
// its outputs through a StackReference and create no network of their own.
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import {
  awsEnvironmentProgram,
  awsNetworkProgram,
  NetworkArgsError,
  NetworkReferenceError,
  subnetCidrs,
} from "../../src/aws";
import type { EnvironmentSpec, NetworkSpec } from "../../src/operations/types";
import { networkStackReferenceName } from "../../src/projects";
import {
  ACCOUNT,
  appDir,
  installMocks,
  type MockOptions,
  type Props,
  promiseOf,
  REGION,
  type Recorded,
  Resources,
  settle,
  T,
} from "./harness";

const NETWORK_TYPES: string[] = [
  T.vpc,
  T.subnet,
  T.natGateway,
  T.eip,
  T.internetGateway,
  T.routeTable,
  T.routeTableAssociation,
  T.vpcEndpoint,
  "awsx:ec2:Vpc",
];

/** Runs the network program under mocks; returns its outputs (plain values) and what it registered. */
async function runNetwork(spec: Partial<NetworkSpec> = {}, mocks: Partial<MockOptions> = {}) {
  const recorder = await installMocks(mocks);
  const program = awsNetworkProgram({ name: "aws-eu-west-1", region: REGION, owner: "ops", ...spec });
  const outputs = (await promiseOf(pulumi.output(await program()))) as Props;
  await settle();
  return { outputs, res: new Resources(recorder.resources), calls: recorder.calls };
}

function envSpec(name: string, overrides: Partial<EnvironmentSpec> = {}): EnvironmentSpec {
  return {
    name,
    target: "aws",
    frontendReplicas: 2,
    redisReplicas: 2,
    owner: "dana@example.com",
    aws: { region: REGION },
    ...overrides,
  };
}

/** Runs an environment program with the network stack's outputs in the (mocked) state backend. */
async function runEnvironment(
  spec: EnvironmentSpec,
  stacks: Record<string, Props>,
  mocks: Partial<MockOptions> = {},
) {
  const recorder = await installMocks({ ...mocks, stacks });
  const outputs = (await promiseOf(
    pulumi.output(await awsEnvironmentProgram(spec, { appPath: appDir })()),
  )) as Props;
  await settle();
  return { outputs, res: new Resources(recorder.resources) };
}

const byRef = (res: Resources, ref: string) => res.byRef(ref);

describe("a created network (the default: 2 AZs, one NAT gateway)", () => {
  let outputs: Props;
  let res: Resources;
  let vpc: Recorded;
  let privates: Recorded[];
  let publics: Recorded[];
  let subnets: Recorded[];
  beforeAll(async () => {
    ({ outputs, res } = await runNetwork());
    vpc = res.one(T.vpc);
    subnets = res.ofType(T.subnet);
    privates = subnets.filter((s) => s.inputs.tags.Tier === "private");
    publics = subnets.filter((s) => s.inputs.tags.Tier === "public");
  });

  it("has one VPC with DNS support, a public and a private subnet in each of two AZs", () => {
    expect(vpc.inputs).toMatchObject({
      cidrBlock: "10.0.0.0/16",
      enableDnsHostnames: true,
      enableDnsSupport: true,
    });
    expect(privates.map((s) => s.inputs.availabilityZone)).toEqual(["eu-west-1a", "eu-west-1b"]);
    expect(publics.map((s) => s.inputs.availabilityZone)).toEqual(["eu-west-1a", "eu-west-1b"]);
    for (const s of subnets) {
      expect(s.inputs.vpcId).toBe(vpc.id);
      expect(s.inputs.mapPublicIpOnLaunch).toBe(false);
    }
    expect(privates.map((s) => s.inputs.cidrBlock)).toEqual(["10.0.0.0/19", "10.0.32.0/19"]);
    expect(publics.map((s) => s.inputs.cidrBlock)).toEqual(["10.0.96.0/22", "10.0.100.0/22"]);
  });

  it("routes public subnets to the internet gateway and private ones through the single NAT gateway", () => {
    const igw = res.one(T.internetGateway);
    const nat = res.one(T.natGateway);
    const eip = res.one(T.eip);
    expect(nat.inputs.allocationId).toBe(eip.id);
    expect(eip.inputs.domain).toBe("vpc");
    // The NAT gateway sits in a public subnet.
    expect(byRef(res, nat.inputs.subnetId).inputs.tags.Tier).toBe("public");
    const tableOf = (subnet: Recorded) =>
      byRef(
        res,
        res.one(T.routeTableAssociation, (a) => a.inputs.subnetId === subnet.id).inputs.routeTableId,
      );
    for (const s of publics)
      expect(tableOf(s).inputs.routes).toEqual([{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }]);
    for (const s of privates)
      expect(tableOf(s).inputs.routes).toEqual([{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }]);
  });

  it("adds the free S3 gateway endpoint to the private route tables", () => {
    const endpoint = res.one(T.vpcEndpoint);
    expect(endpoint.inputs).toMatchObject({
      vpcEndpointType: "Gateway",
      serviceName: `com.amazonaws.${REGION}.s3`,
    });
    const privateTables = privates.map(
      (s) => res.one(T.routeTableAssociation, (a) => a.inputs.subnetId === s.id).inputs.routeTableId,
    );
    expect([...endpoint.inputs.routeTableIds].sort()).toEqual(privateTables.sort());
    // The default security group is left alone: adopting it would need EC2 permissions on groups the platform
    // did not create (see portal-aws/worker-policy.ts); nothing of the platform uses it.
    expect(res.ofType("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")).toEqual([]);
  });

  it("publishes what environments need: VPC, subnets, AZs, region, account, NAT count", () => {
    expect(outputs).toEqual({
      vpcId: vpc.id,
      privateSubnetIds: privates.map((s) => s.id),
      publicSubnetIds: publics.map((s) => s.id),
      availabilityZones: ["eu-west-1a", "eu-west-1b"],
      cidrBlock: "10.0.0.0/16",
      adopted: false,
      natGatewayCount: 1,
      natGateways: "single",
      region: REGION,
      accountId: ACCOUNT,
    });
  });

  it("tags what it creates with the network, owner and ManagedBy", () => {
    for (const r of res.all.filter(
      (r) => NETWORK_TYPES.includes(r.type) && r.type !== T.routeTableAssociation,
    )) {
      expect(r.inputs.tags, `${r.type} ${r.name}`).toMatchObject({
        Network: "aws-eu-west-1",
        Owner: "ops",
        ManagedBy: "platform-portal",
      });
    }
  });
});

describe("network options", () => {
  it("one NAT gateway per AZ: each private subnet routes through the NAT of its own AZ", async () => {
    const { res, outputs } = await runNetwork({ availabilityZones: 3, natGateways: "onePerAz" });
    const nats = res.ofType(T.natGateway);
    expect(nats).toHaveLength(3);
    expect(res.ofType(T.eip)).toHaveLength(3);
    for (const nat of nats) {
      const natAz = byRef(res, nat.inputs.subnetId).inputs.availabilityZone;
      const table = res.one(T.routeTable, (t) => t.inputs.routes?.[0]?.natGatewayId === nat.id);
      const assoc = res.one(T.routeTableAssociation, (a) => a.inputs.routeTableId === table.id);
      const subnet = byRef(res, assoc.inputs.subnetId);
      expect(subnet.inputs.tags.Tier).toBe("private");
      expect(subnet.inputs.availabilityZone).toBe(natAz);
    }
    expect(outputs.natGatewayCount).toBe(3);
    expect(outputs.availabilityZones).toEqual(["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
  });

  it("lays out non-overlapping subnets inside any private /16", () => {
    for (const i of [0, 1, 2]) {
      const c = subnetCidrs("172.20.0.0/16", i);
      expect(c.private).toBe(`172.20.${i * 32}.0/19`);
      expect(c.public).toBe(`172.20.${96 + 4 * i}.0/22`);
    }
  });

  const bad: [string, Partial<NetworkSpec>, RegExp][] = [
    ["one AZ", { availabilityZones: 1 }, /availabilityZones must be 2 or 3/],
    ["a public CIDR", { cidrBlock: "8.8.0.0/16" }, /cidrBlock must be a private \/16/],
    ["a /24", { cidrBlock: "10.1.2.0/24" }, /cidrBlock must be a private \/16/],
    [
      "NAT options with an adopted VPC",
      { natGateways: "onePerAz", existing: adoptable() },
      /natGateways applies to a created network only/,
    ],
    ["an invalid name", { name: "Net_1" }, /name: Use lower-case letters/],
    ["a region outside AWS's scheme", { region: "europe" }, /region must be an AWS region/],
  ];
  for (const [label, spec, message] of bad) {
    it(`rejects ${label} before any Pulumi run`, async () => {
      const recorder = await installMocks();
      expect(() => awsNetworkProgram({ name: "aws-eu-west-1", region: REGION, ...spec })).toThrow(
        NetworkArgsError,
      );
      expect(() => awsNetworkProgram({ name: "aws-eu-west-1", region: REGION, ...spec })).toThrow(message);
      await settle();
      expect(recorder.resources).toHaveLength(0);
    });
  }
});

// ---- adopting an existing VPC ----

function adoptable() {
  return {
    vpcId: "vpc-0123456789abcdef0",
    privateSubnetIds: ["subnet-0000000000000a001", "subnet-0000000000000b001"],
    publicSubnetIds: ["subnet-0000000000000a002", "subnet-0000000000000b002"],
  };
}

const VPC = "vpc-0123456789abcdef0";
const goodSubnets = (): MockOptions["subnets"] => ({
  "subnet-0000000000000a001": {
    vpcId: VPC,
    availabilityZone: "eu-west-1a",
    defaultRoute: "nat-0aaaaaaaaaaaaaaa1",
  },
  "subnet-0000000000000b001": {
    vpcId: VPC,
    availabilityZone: "eu-west-1b",
    defaultRoute: "nat-0aaaaaaaaaaaaaaa1",
  },
  "subnet-0000000000000a002": {
    vpcId: VPC,
    availabilityZone: "eu-west-1a",
    defaultRoute: "igw-0aaaaaaaaaaaaaaa1",
  },
  "subnet-0000000000000b002": {
    vpcId: VPC,
    availabilityZone: "eu-west-1b",
    defaultRoute: "igw-0aaaaaaaaaaaaaaa1",
  },
});

describe("an adopted VPC", () => {
  it("is checked against AWS and published as it is: nothing created", async () => {
    const { outputs, res } = await runNetwork({ existing: adoptable() }, { subnets: goodSubnets() });
    expect(res.all.filter((r) => NETWORK_TYPES.includes(r.type))).toEqual([]);
    expect(outputs).toMatchObject({
      ...adoptable(),
      adopted: true,
      natGateways: "adopted",
      natGatewayCount: 1,
      availabilityZones: ["eu-west-1a", "eu-west-1b"],
      cidrBlock: "172.31.0.0/16",
      region: REGION,
      accountId: ACCOUNT,
    });
  });

  it("uses the main route table of subnets without an explicit association", async () => {
    const subnets = goodSubnets();
    for (const id of ["subnet-0000000000000a001", "subnet-0000000000000b001"])
      subnets[id] = { ...subnets[id], defaultRoute: undefined } as never;
    const { outputs } = await runNetwork(
      { existing: adoptable() },
      { subnets, mainRoutes: { [VPC]: "nat-0bbbbbbbbbbbbbbb1" } },
    );
    expect(outputs.natGatewayCount).toBe(1);
  });

  it("with too few private subnets: a clear error before any Pulumi run, nothing registered", async () => {
    const recorder = await installMocks({ subnets: goodSubnets() });
    const spec: NetworkSpec = {
      name: "aws-eu-west-1",
      region: REGION,
      existing: { ...adoptable(), privateSubnetIds: ["subnet-0000000000000a001"] },
    };
    expect(() => awsNetworkProgram(spec)).toThrow(
      /existing\.privateSubnetIds: privateSubnetIds needs at least 2 subnets, in two availability zones/,
    );
    await settle();
    expect(recorder.resources).toHaveLength(0);
  });

  const refusals: [string, (s: MockOptions["subnets"]) => void, RegExp][] = [
    [
      "private subnets all in one AZ",
      (s) => Object.assign(s["subnet-0000000000000b001"] as object, { availabilityZone: "eu-west-1a" }),
      /existing\.privateSubnetIds: needs subnets in at least 2 availability zones; subnet-0000000000000a001 is in eu-west-1a, subnet-0000000000000b001 is in eu-west-1a/,
    ],
    [
      "a private subnet without a NAT route",
      (s) =>
        Object.assign(s["subnet-0000000000000b001"] as object, { defaultRoute: "igw-0aaaaaaaaaaaaaaa1" }),
      /subnet-0000000000000b001 has no default route to a NAT gateway \(it routes to igw-0aaaaaaaaaaaaaaa1: a public subnet\)/,
    ],
    [
      "a public subnet without an internet gateway",
      (s) =>
        Object.assign(s["subnet-0000000000000b002"] as object, { defaultRoute: "nat-0aaaaaaaaaaaaaaa1" }),
      /subnet-0000000000000b002 has no default route to an internet gateway/,
    ],
    [
      "a subnet of another VPC",
      (s) => Object.assign(s["subnet-0000000000000a002"] as object, { vpcId: "vpc-0fffffffffffffff0" }),
      /subnet-0000000000000a002 belongs to vpc-0fffffffffffffff0, not vpc-0123456789abcdef0/,
    ],
    [
      "no public subnet in a private subnet's AZ",
      (s) => {
        Object.assign(s["subnet-0000000000000b001"] as object, { availabilityZone: "eu-west-1c" });
      },
      /no public subnet in eu-west-1c, where private subnets are/,
    ],
  ];
  for (const [label, breakIt, message] of refusals) {
    it(`refuses ${label}, naming the subnet, and registers nothing but the provider`, async () => {
      const subnets = goodSubnets();
      breakIt(subnets);
      const recorder = await installMocks({ subnets });
      const program = awsNetworkProgram({ name: "aws-eu-west-1", region: REGION, existing: adoptable() });
      const error = await program().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NetworkArgsError);
      expect((error as Error).message).toMatch(/^The VPC vpc-0123456789abcdef0 cannot be adopted: /);
      expect((error as Error).message).toMatch(message);
      // One line: the CLI reports a program error's first line.
      expect((error as Error).message).not.toContain("\n");
      await settle();
      expect(recorder.resources.map((r) => r.type)).toEqual(["pulumi:providers:aws"]);
    });
  }
});

// ---- environments consume the network ----

describe("environments in a region", () => {
  it("read the network stack's outputs and put every part into that network", async () => {
    const network = await runNetwork();
    const stacks = { [networkStackReferenceName("aws-eu-west-1")]: network.outputs };
    const { res, outputs } = await runEnvironment(envSpec("team-a"), stacks);
    // It references the network's stack: that is how its state records the dependency.
    const ref = res.one(T.stackReference);
    expect(ref.inputs.name).toBe("organization/platform-networks/aws-eu-west-1");
    const n = network.outputs;
    for (const sg of res.ofType(T.sg)) expect(sg.inputs.vpcId).toBe(n.vpcId);
    for (const tg of res.ofType(T.targetGroup)) expect(tg.inputs.vpcId).toBe(n.vpcId);
    const alb = res.one(T.lb, (l) => l.inputs.loadBalancerType === "application");
    const nlb = res.one(T.lb, (l) => l.inputs.loadBalancerType === "network");
    expect(alb.inputs.subnets).toEqual(n.publicSubnetIds);
    expect(nlb.inputs.subnets).toEqual(n.privateSubnetIds);
    for (const s of res.ofType(T.service))
      expect(s.inputs.networkConfiguration.subnets).toEqual(n.privateSubnetIds);
    expect(outputs).toMatchObject({ vpcId: n.vpcId, network: "aws-eu-west-1", region: REGION });
  });

  it("N environments share the one VPC and create no VPC, subnet, NAT gateway or Elastic IP", async () => {
    const network = await runNetwork();
    const stacks = { [networkStackReferenceName("aws-eu-west-1")]: network.outputs };
    const names = ["team-a", "team-b", "team-c", "team-d", "team-e", "team-f"];
    const vpcs = new Set<string>();
    for (const name of names) {
      const { res } = await runEnvironment(envSpec(name), stacks);
      expect(
        res.all.filter((r) => NETWORK_TYPES.includes(r.type)),
        name,
      ).toEqual([]);
      for (const sg of res.ofType(T.sg)) vpcs.add(sg.inputs.vpcId);
      expect(res.one(T.stackReference).inputs.name).toBe("organization/platform-networks/aws-eu-west-1");
    }
    // Six environments (more than the default quota of 5 VPCs and 5 Elastic IPs per region), one VPC.
    expect([...vpcs]).toEqual([network.outputs.vpcId]);
    expect(network.res.ofType(T.vpc)).toHaveLength(1);
    expect(network.res.ofType(T.eip)).toHaveLength(1);
  });

  it("use the network the spec names", async () => {
    const network = await runNetwork({ name: "shared-eu" });
    const stacks = { [networkStackReferenceName("shared-eu")]: network.outputs };
    const { res, outputs } = await runEnvironment(
      envSpec("team-x", { aws: { region: REGION, network: "shared-eu" } }),
      stacks,
    );
    expect(res.one(T.stackReference).inputs.name).toBe("organization/platform-networks/shared-eu");
    expect(outputs.network).toBe("shared-eu");
  });

  const refusals: [string, Record<string, Props>, Partial<MockOptions>, RegExp][] = [
    [
      "a network that has no outputs yet",
      {},
      {},
      /network aws-eu-west-1 has no usable outputs \(vpcId is missing.*\): its create has not succeeded yet/,
    ],
    [
      "a network in another region",
      { [networkStackReferenceName("aws-eu-west-1")]: { region: "us-east-1" } },
      {},
      /network aws-eu-west-1 is in us-east-1, the environment in eu-west-1/,
    ],
    [
      "a network of another account",
      { [networkStackReferenceName("aws-eu-west-1")]: { accountId: "999999999999" } },
      {},
      /network aws-eu-west-1 belongs to account 999999999999, but these AWS credentials are for account 123456789012/,
    ],
  ];
  for (const [label, stackOverrides, mocks, message] of refusals) {
    it(`refuse ${label} with a clear error, registering none of the environment's resources`, async () => {
      const network = await runNetwork();
      const key = networkStackReferenceName("aws-eu-west-1");
      const stacks =
        Object.keys(stackOverrides).length === 0
          ? {}
          : { [key]: { ...network.outputs, ...stackOverrides[key] } };
      const recorder = await installMocks({ ...mocks, stacks });
      const error = await awsEnvironmentProgram(envSpec("team-z"), { appPath: appDir })().catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(NetworkReferenceError);
      expect((error as Error).message).toMatch(message);
      await settle();
      expect(recorder.resources.map((r) => r.type).sort()).toEqual(
        ["pulumi:providers:aws", T.stackReference].sort(),
      );
    });
  }
});
