// Pulumi mocks for the AWS program: every registered resource is recorded with its inputs, and the mock returns
// plausible state for the things the program reads back (awsx VPC and image outputs, load balancer DNS names,
// ARNs, the ECR repository URL). Nothing here talks to AWS, the Pulumi CLI or Docker.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

export const REGION = "eu-west-1";
export const ACCOUNT = "123456789012";
/** What the mocked RandomPassword returns: it must never show up outside the Secrets Manager secret version. */
export const MOCK_PASSWORD = "Mock0Redis0Password0Value0123456";
export const VPC_ID = "vpc-0a1b2c3d4e5f60718";
/** The secret RDS creates for the master user (mocked). */
export const DB_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:rds!db-0123abcd-4567-89ef-0123-456789abcdef-AbCdEf`;
export const PRIVATE_SUBNETS = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"];
export const PUBLIC_SUBNETS = ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"];
/** The network environments are placed in when a test builds the component directly. */
export const NETWORK = { vpcId: VPC_ID, privateSubnetIds: PRIVATE_SUBNETS, publicSubnetIds: PUBLIC_SUBNETS };
/** What the network stack `aws-eu-west-1` publishes (as the network program's test produces it). */
export const NETWORK_OUTPUTS = {
  ...NETWORK,
  availabilityZones: ["eu-west-1a", "eu-west-1b"],
  region: REGION,
  accountId: ACCOUNT,
  adopted: false,
  natGatewayCount: 1,
  natGateways: "single",
  cidrBlock: "10.0.0.0/16",
};
/** The mocked state backend's stacks: the default network of REGION. */
export const WITH_NETWORK = { stacks: { "organization/platform-networks/aws-eu-west-1": NETWORK_OUTPUTS } };

// Resource inputs and state are untyped property bags from the engine; tests read them like JSON.
// biome-ignore lint/suspicious/noExplicitAny: property bags
export type Props = Record<string, any>;

export interface Recorded {
  type: string;
  name: string;
  id: string;
  inputs: Props;
  state: Props;
  /** Reference of the provider the resource was created with, e.g. "urn:pulumi:…::pulumi:providers:aws::aws::<id>". */
  provider?: string;
}

export interface Recorder {
  resources: Recorded[];
  calls: { token: string; inputs: Props }[];
}

function stateFor(type: string, name: string, inputs: Props, o: MockOptions): Props {
  const arn = `arn:${o.partition}:mock:${o.region}:${o.accountId}:${type.split(":")[1]}/${name}`;
  const base = { ...inputs, arn, name: inputs.name ?? name };
  switch (type) {
    case "pulumi:pulumi:StackReference":
      // A read of another stack: its outputs as the test says the network stack has them.
      return { name: inputs.name, outputs: o.stacks[inputs.name as string] ?? {}, secretOutputNames: [] };
    case "awsx:ecr:Image":
      return { ...inputs, imageUri: `${inputs.repositoryUrl}@sha256:${"ab".repeat(32)}` };
    case "aws:ecr/repository:Repository":
      return { ...base, repositoryUrl: `${o.accountId}.dkr.ecr.${o.region}.amazonaws.com/${name}` };
    case "aws:lb/loadBalancer:LoadBalancer":
      return {
        ...base,
        // Like AWS: auto-named, and internal load balancers' DNS names start with "internal-".
        name: `${name}-${"f".repeat(7)}`,
        dnsName: `${inputs.internal ? "internal-" : ""}${name}-1234567890.${o.region}.elb.amazonaws.com`,
        // The load balancers' canonical hosted zone (eu-west-1's ELB zone), the target of alias records.
        zoneId: "Z32O12XQLNTSW2",
      };
    case "aws:lb/targetGroup:TargetGroup":
      return { ...base, name: `${name}-${"f".repeat(7)}` };
    case "random:index/randomPassword:RandomPassword":
      return { ...inputs, result: MOCK_PASSWORD };
    case "random:index/randomId:RandomId":
      return { ...inputs, hex: "0a1b2c3d" };
    case "aws:elasticache/replicationGroup:ReplicationGroup":
      return {
        ...base,
        primaryEndpointAddress: `master.${inputs.replicationGroupId}.abcdef.euw1.cache.amazonaws.com`,
        readerEndpointAddress: `replica.${inputs.replicationGroupId}.abcdef.euw1.cache.amazonaws.com`,
      };
    case "aws:rds/instance:Instance": {
      const address = `${inputs.identifier ?? name}.abcdefghijkl.${o.region}.rds.amazonaws.com`;
      const port = inputs.port ?? 5432;
      // What RDS reports with manageMasterUserPassword: the secret it created and keeps (in the mock's
      // partition and region; DB_SECRET_ARN with the defaults).
      const secretArn = DB_SECRET_ARN.replace("arn:aws:", `arn:${o.partition}:`)
        .replace(`:${REGION}:`, `:${o.region}:`)
        .replace(`:${ACCOUNT}:`, `:${o.accountId}:`);
      return {
        ...base,
        address,
        port,
        endpoint: `${address}:${port}`,
        masterUserSecrets: inputs.manageMasterUserPassword
          ? [{ secretArn, secretStatus: "active", kmsKeyId: "alias/aws/secretsmanager" }]
          : [],
      };
    }
    case "aws:appautoscaling/target:Target":
      return { ...base };
    default:
      return base;
  }
}

/** An existing subnet as the mocked EC2 API describes it. */
export interface MockSubnet {
  vpcId: string;
  availabilityZone: string;
  /** Target of its default route (nat-…, igw-…); undefined: no explicit route table association. */
  defaultRoute?: string;
}

export interface MockOptions {
  region: string;
  partition: string;
  accountId: string;
  /** Outputs of other stacks, by fully qualified name (organization/<project>/<stack>). */
  stacks: Record<string, Props>;
  /** Existing subnets (for adopted networks). */
  subnets: Record<string, MockSubnet>;
  /** The main route table's default route of each existing VPC. */
  mainRoutes: Record<string, string | undefined>;
  availabilityZones: string[];
}

export const PARTITION_OF_REGION = (region: string) =>
  region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";

function answer(token: string, inputs: Props, o: MockOptions): Props {
  switch (token) {
    case "aws:index/getRegion:getRegion":
      return { id: o.region, name: o.region, region: o.region };
    case "aws:index/getPartition:getPartition":
      return { id: o.partition, partition: o.partition, dnsSuffix: "amazonaws.com" };
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { id: o.accountId, accountId: o.accountId, arn: `arn:${o.partition}:iam::${o.accountId}:root` };
    case "aws:index/getAvailabilityZones:getAvailabilityZones":
      return { id: o.region, names: o.availabilityZones, zoneIds: o.availabilityZones };
    case "aws:ec2/getVpcEndpointService:getVpcEndpointService":
      return { id: "s3", serviceName: `com.amazonaws.${o.region}.${inputs.service}` };
    case "aws:ec2/getVpc:getVpc":
      return { id: inputs.id, cidrBlock: "172.31.0.0/16" };
    case "aws:ec2/getSubnet:getSubnet": {
      const subnet = o.subnets[inputs.id as string];
      if (!subnet) throw new Error(`no matching EC2 Subnet found (${inputs.id})`);
      return { id: inputs.id, vpcId: subnet.vpcId, availabilityZone: subnet.availabilityZone };
    }
    case "aws:ec2/getRouteTable:getRouteTable": {
      const id = inputs.subnetId as string | undefined;
      const target = id ? o.subnets[id]?.defaultRoute : o.mainRoutes[inputs.vpcId as string];
      if (id && target === undefined) throw new Error("no matching Route Table found");
      const route: Props = { cidrBlock: "0.0.0.0/0" };
      if (target?.startsWith("nat-")) route.natGatewayId = target;
      else if (target) route.gatewayId = target;
      return { id: "rtb-0123456789abcdef0", routes: target ? [route] : [] };
    }
    default:
      return {};
  }
}

/** EC2 ids look like AWS's (`vpc-0123…`), since code checks their form; other resources get `<name>-id`. */
const EC2_ID_PREFIX: Record<string, string> = {
  "aws:ec2/vpc:Vpc": "vpc",
  "aws:ec2/subnet:Subnet": "subnet",
  "aws:ec2/natGateway:NatGateway": "nat",
  "aws:ec2/eip:Eip": "eipalloc",
  "aws:ec2/internetGateway:InternetGateway": "igw",
  "aws:ec2/routeTable:RouteTable": "rtb",
  "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
  "aws:ec2/securityGroup:SecurityGroup": "sg",
};

function mockId(type: string, name: string): string {
  const prefix = EC2_ID_PREFIX[type];
  if (!prefix) return `${name}-id`;
  return `${prefix}-${createHash("sha256").update(name).digest("hex").slice(0, 17)}`;
}

/** Installs fresh mocks (call before creating resources); returns what they record. */
export async function installMocks(options: Partial<MockOptions> = {}): Promise<Recorder> {
  const region = options.region ?? REGION;
  const o: MockOptions = {
    region,
    partition: options.partition ?? PARTITION_OF_REGION(region),
    accountId: options.accountId ?? ACCOUNT,
    stacks: options.stacks ?? {},
    subnets: options.subnets ?? {},
    mainRoutes: options.mainRoutes ?? {},
    availabilityZones: options.availabilityZones ?? [`${region}a`, `${region}b`, `${region}c`],
  };
  const recorder: Recorder = { resources: [], calls: [] };
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const id =
          args.type === "pulumi:pulumi:StackReference"
            ? (args.id ?? args.name)
            : mockId(args.type, args.name);
        const state = stateFor(args.type, args.name, args.inputs, o);
        recorder.resources.push({
          type: args.type,
          name: args.name,
          id,
          inputs: args.inputs,
          state,
          provider: args.provider,
        });
        return { id, state };
      },
      call(args) {
        recorder.calls.push({ token: args.token, inputs: args.inputs });
        return answer(args.token, args.inputs, o);
      },
    },
    "voting",
    "test",
    false,
  );
  return recorder;
}

export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** Waits until every resource registration the program started has reached the mocks. */
export async function settle(): Promise<void> {
  const settings = (await import("@pulumi/pulumi/runtime/settings.js")) as unknown as {
    waitForRPCs: () => Promise<void>;
  };
  await settings.waitForRPCs();
}

/** A folder that looks like the voting app to the component (a Dockerfile and a source file). */
export function fakeAppDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "voting-app-"));
  fs.writeFileSync(path.join(dir, "Dockerfile"), "FROM node:20-alpine\nCOPY . .\nCMD node main.js\n");
  fs.writeFileSync(path.join(dir, "main.js"), "console.log('vote')\n");
  return dir;
}

// ---- queries over the recorded resources ----

export class Resources {
  constructor(readonly all: Recorded[]) {}

  ofType(type: string): Recorded[] {
    return this.all.filter((r) => r.type === type);
  }

  one(type: string, predicate: (r: Recorded) => boolean = () => true): Recorded {
    const found = this.ofType(type).filter(predicate);
    if (found.length !== 1) {
      throw new Error(
        `expected exactly one ${type} matching, found ${found.length}: ${found.map((r) => r.name)}`,
      );
    }
    return found[0] as Recorded;
  }

  named(type: string, name: string): Recorded {
    return this.one(type, (r) => r.name === name);
  }

  /** The resource whose mocked id or ARN is `ref` (inputs reference other resources by id/ARN). */
  byRef(ref: string): Recorded {
    const found = this.all.find((r) => r.id === ref || r.state.arn === ref);
    if (!found) throw new Error(`no resource with id/arn ${ref}`);
    return found;
  }
}

export const T = {
  sg: "aws:ec2/securityGroup:SecurityGroup",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  lb: "aws:lb/loadBalancer:LoadBalancer",
  listener: "aws:lb/listener:Listener",
  targetGroup: "aws:lb/targetGroup:TargetGroup",
  service: "aws:ecs/service:Service",
  taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
  cluster: "aws:ecs/cluster:Cluster",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  repository: "aws:ecr/repository:Repository",
  lifecycle: "aws:ecr/lifecyclePolicy:LifecyclePolicy",
  secret: "aws:secretsmanager/secret:Secret",
  secretVersion: "aws:secretsmanager/secretVersion:SecretVersion",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  rolePolicyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  dnsRecord: "aws:route53/record:Record",
  scalingTarget: "aws:appautoscaling/target:Target",
  scalingPolicy: "aws:appautoscaling/policy:Policy",
  image: "awsx:ecr:Image",
  stackReference: "pulumi:pulumi:StackReference",
  vpc: "aws:ec2/vpc:Vpc",
  subnet: "aws:ec2/subnet:Subnet",
  natGateway: "aws:ec2/natGateway:NatGateway",
  eip: "aws:ec2/eip:Eip",
  internetGateway: "aws:ec2/internetGateway:InternetGateway",
  routeTable: "aws:ec2/routeTable:RouteTable",
  routeTableAssociation: "aws:ec2/routeTableAssociation:RouteTableAssociation",
  vpcEndpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
  defaultSecurityGroup: "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
  password: "random:index/randomPassword:RandomPassword",
  replicationGroup: "aws:elasticache/replicationGroup:ReplicationGroup",
  cacheSubnetGroup: "aws:elasticache/subnetGroup:SubnetGroup",
  dbInstance: "aws:rds/instance:Instance",
  dbSubnetGroup: "aws:rds/subnetGroup:SubnetGroup",
} as const;

export interface Container {
  name: string;
  image: string;
  command?: string[];
  user?: string;
  environment: { name: string; value: string }[];
  secrets: { name: string; valueFrom: string }[];
  portMappings: { containerPort: number }[];
  healthCheck: { command: string[] };
  logConfiguration: { logDriver: string; options: Record<string, string> };
}

export function containersOf(taskDefinition: Recorded): Container[] {
  return JSON.parse(taskDefinition.inputs.containerDefinitions as string) as Container[];
}

/** The task definition's single container (every task here has exactly one). */
export function containerOf(taskDefinition: Recorded): Container {
  const containers = containersOf(taskDefinition);
  if (containers.length !== 1) throw new Error(`expected one container in ${taskDefinition.name}`);
  return containers[0] as Container;
}

export function envOf(container: Container): Record<string, string> {
  return Object.fromEntries(container.environment.map((e) => [e.name, e.value]));
}

// ---- building an environment under the mocks ----

import { VotingEnvironment, type VotingEnvironmentArgs } from "../../src/aws";

export const appDir = fakeAppDir();

export function baseArgs(overrides: Partial<VotingEnvironmentArgs> = {}): VotingEnvironmentArgs {
  return {
    name: "demo",
    owner: "alice@example.com",
    frontendReplicas: 2,
    redisReplicas: 1,
    appPath: appDir,
    network: NETWORK,
    ...overrides,
  };
}

export async function buildEnvironment(
  overrides: Partial<VotingEnvironmentArgs> = {},
  mocks: Partial<MockOptions> = {},
) {
  const recorder = await installMocks(mocks);
  const args = baseArgs(overrides);
  // A (client-side) transformation on the component sees the component and each of its descendants with the
  // options it was created with, so tests can check that every resource is parented to the component.
  const parented: {
    type: string;
    name: string;
    resource: pulumi.Resource;
    parent: pulumi.Resource | undefined;
    dependsOn: pulumi.Input<pulumi.Input<pulumi.Resource>[]> | pulumi.Input<pulumi.Resource> | undefined;
  }[] = [];
  const environment = new VotingEnvironment(args.name, args, {
    transformations: [
      (a) => {
        parented.push({
          type: a.type,
          name: a.name,
          resource: a.resource,
          parent: a.opts.parent,
          dependsOn: a.opts.dependsOn,
        });
        return undefined;
      },
    ],
  });
  const outputs = await promiseOf(pulumi.output(environment.outputs()));
  await settle();
  /** Names of the resources `name` explicitly depends on (`dependsOn`), as "type name". */
  const dependenciesOf = (type: string, name: string): string[] => {
    const entry = parented.find((p) => p.type === type && p.name === name);
    if (!entry) throw new Error(`no ${type} ${name}`);
    const deps =
      entry.dependsOn === undefined
        ? []
        : Array.isArray(entry.dependsOn)
          ? entry.dependsOn
          : [entry.dependsOn];
    return deps.map((d) => {
      const found = parented.find((p) => p.resource === d);
      return found ? `${found.type} ${found.name}` : "(unknown)";
    });
  };
  return {
    environment,
    outputs,
    res: new Resources(recorder.resources),
    calls: recorder.calls,
    parented,
    dependenciesOf,
  };
}
