// The portal's own deployment on AWS (PortalOnAws) and its worker's permissions, under Pulumi mocks.
import * as pulumi from "@pulumi/pulumi";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { beforeAll, describe, expect, it } from "vitest";
import { awsEnvironmentProgram, awsNetworkProgram } from "../../src/aws";
import {
  PORTAL_LIVENESS_PATH,
  PORTAL_MANAGED_BY,
  type PolicyDocument,
  type PolicyStatement,
  PortalArgsError,
  PortalOnAws,
  type PortalOnAwsArgs,
  PROXY_JWT_ENV,
  workerPolicy,
} from "../../src/portal-aws";
import { deployPortal } from "../../src/portal-aws/deploy";
import { networkStackReferenceName } from "../../src/projects";
import {
  appDir,
  containerOf,
  envOf,
  installMocks,
  type MockOptions,
  NETWORK,
  NETWORK_OUTPUTS,
  type Props,
  promiseOf,
  type Recorded,
  Resources,
  settle,
  T,
} from "./harness";

const CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";
const CLIENT_SECRET = "oidc-client-secret-value-0123456789";

function portalArgs(overrides: Partial<PortalOnAwsArgs> = {}): PortalOnAwsArgs {
  return {
    name: "portal",
    image: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/portal@sha256:${"ab".repeat(32)}`,
    votingAppImage: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/voting-app@sha256:${"cd".repeat(32)}`,
    network: NETWORK,
    domainName: "portal.example.com",
    certificateArn: CERT,
    hostedZoneId: "Z0123456789ABCDEFGHIJ",
    oidc: {
      issuer: "https://login.example.com",
      authorizationEndpoint: "https://login.example.com/authorize",
      tokenEndpoint: "https://login.example.com/token",
      userInfoEndpoint: "https://login.example.com/userinfo",
      clientId: "portal-client",
    },
    oidcClientSecret: pulumi.secret(CLIENT_SECRET),
    environmentRegions: ["eu-west-1", "us-east-1"],
    ...overrides,
  };
}

/** What each resource was created with explicit dependencies on ("type name"), seen by a transformation. */
const created: { type: string; name: string; resource: pulumi.Resource; dependsOn: unknown }[] = [];
function dependsOn(type: string, name: string): string[] {
  const entry = created.find((c) => c.type === type && c.name === name);
  if (!entry) throw new Error(`no ${type} ${name}`);
  const deps = (Array.isArray(entry.dependsOn) ? entry.dependsOn : [entry.dependsOn]).filter(Boolean);
  return deps.map((d) => {
    const found = created.find((c) => c.resource === d);
    return found ? `${found.type} ${found.name}` : "(other)";
  });
}

async function buildPortal(overrides: Partial<PortalOnAwsArgs> = {}, mocks: Partial<MockOptions> = {}) {
  const recorder = await installMocks(mocks);
  created.length = 0;
  const portal = new PortalOnAws("portal", portalArgs(overrides), {
    transformations: [
      (a) => {
        created.push({ type: a.type, name: a.name, resource: a.resource, dependsOn: a.opts.dependsOn });
        return undefined;
      },
    ],
  });
  await promiseOf(pulumi.output({ url: portal.url, worker: portal.workerRoleArn }));
  await settle();
  return { portal, res: new Resources(recorder.resources) };
}

const policyOf = (r: Recorded): PolicyDocument => JSON.parse(r.inputs.policy as string);
const serviceOf = (res: Resources, role: string) => res.named(T.service, `portal-${role}`);
const taskOf = (res: Resources, role: string) => res.byRef(serviceOf(res, role).inputs.taskDefinition);

/** Read-only action wildcards the worker may use: everything else names its action exactly. */
const READ_ONLY_WILDCARD = /^[a-z0-9-]+:(Describe|List|Get)\*$/;

describe("the portal on AWS", () => {
  let res: Resources;
  let worker: PolicyDocument;
  beforeAll(async () => {
    ({ res } = await buildPortal());
    worker = policyOf(res.named(T.rolePolicy, "portal-worker"));
  });

  it("serves HTTPS only, with the ALB's OIDC sign-in before anything reaches the portal", () => {
    const alb = res.one(T.lb);
    expect(alb.inputs).toMatchObject({
      loadBalancerType: "application",
      internal: false,
      dropInvalidHeaderFields: true,
    });
    expect(alb.inputs.subnets).toEqual(NETWORK.publicSubnetIds);
    const https = res.one(T.listener, (l) => l.inputs.port === 443);
    expect(https.inputs).toMatchObject({ protocol: "HTTPS", certificateArn: CERT });
    // The client secret inside makes the whole property a Pulumi secret (encrypted in the state).
    const actions = https.inputs.defaultActions;
    expect(actions).toMatchObject({ [specialSigKey]: specialSecretSig });
    const [signIn, forward] = (actions as { value: Props[] }).value;
    expect(signIn?.authenticateOidc.clientSecret).toBe(CLIENT_SECRET);
    expect(signIn).toMatchObject({
      type: "authenticate-oidc",
      order: 1,
      authenticateOidc: {
        issuer: "https://login.example.com",
        clientId: "portal-client",
        onUnauthenticatedRequest: "authenticate",
      },
    });
    expect(forward).toMatchObject({ type: "forward", order: 2 });
    expect(res.byRef(forward?.targetGroupArn).name).toBe("portal-web");
    expect(res.one(T.listener, (l) => l.inputs.port === 80).inputs.defaultActions[0]).toMatchObject({
      type: "redirect",
      redirect: { protocol: "HTTPS", port: "443" },
    });
    expect(res.one(T.dnsRecord).inputs).toMatchObject({ name: "portal.example.com", type: "A" });
  });

  it("passes the ALB's signed claims to the portal's proxy-jwt mode, and the OIDC secret to no container", () => {
    const env = envOf(containerOf(taskOf(res, "web")));
    const alb = res.one(T.lb);
    expect(env).toMatchObject({
      [PROXY_JWT_ENV.mode]: "proxy-jwt",
      [PROXY_JWT_ENV.header]: "x-amzn-oidc-data",
      [PROXY_JWT_ENV.keysUrl]: "https://public-keys.auth.elb.eu-west-1.amazonaws.com/{kid}",
      [PROXY_JWT_ENV.algorithms]: "ES256",
      [PROXY_JWT_ENV.issuer]: "https://login.example.com",
      [PROXY_JWT_ENV.signer]: alb.state.arn,
      [PROXY_JWT_ENV.publicUrl]: "https://portal.example.com",
      PORTAL_ROLE: "web",
      LISTEN_HOST: "0.0.0.0",
    });
    for (const task of res.ofType(T.taskDefinition)) {
      expect(task.inputs.containerDefinitions as string).not.toContain(CLIENT_SECRET);
    }
  });

  it("health-checks web tasks on liveness, so a database failover does not replace them all", () => {
    const tg = res.named(T.targetGroup, "portal-web");
    expect(tg.inputs.healthCheck).toMatchObject({ path: PORTAL_LIVENESS_PATH, matcher: "200" });
    expect(tg.inputs.name).toBeUndefined();
  });

  it("keeps PostgreSQL on RDS private, encrypted, backed up, with credentials managed by Secrets Manager", () => {
    const db = res.one("aws:rds/instance:Instance");
    expect(db.inputs).toMatchObject({
      engine: "postgres",
      publiclyAccessible: false,
      storageEncrypted: true,
      manageMasterUserPassword: true,
      deletionProtection: true,
      skipFinalSnapshot: false,
      multiAz: false,
    });
    expect(db.inputs.backupRetentionPeriod).toBeGreaterThanOrEqual(7);
    expect(db.inputs.password).toBeUndefined();
    const subnetGroup = res.one("aws:rds/subnetGroup:SubnetGroup");
    expect(db.inputs.dbSubnetGroupName).toBe(subnetGroup.state.name);
    expect(subnetGroup.inputs.subnetIds).toEqual(NETWORK.privateSubnetIds);
    // Its security group admits 5432 from the web and worker tasks' groups, nothing else.
    const [dbGroup] = db.inputs.vpcSecurityGroupIds as string[];
    const ingress = res.ofType(T.ingress).filter((r) => r.inputs.securityGroupId === dbGroup);
    expect(
      ingress.map((r) => [r.inputs.fromPort, res.byRef(r.inputs.referencedSecurityGroupId).name]).sort(),
    ).toEqual([
      [5432, "portal-web"],
      [5432, "portal-worker"],
    ]);
    for (const r of ingress) expect(r.inputs.cidrIpv4).toBeUndefined();
  });

  it("gives tasks their credentials as ECS secrets only: the owner's and the passphrase to the worker, the web its own role's", () => {
    const web = containerOf(taskOf(res, "web"));
    const work = containerOf(taskOf(res, "worker"));
    // The web process never gets the owner's credentials (it must not reach the Pulumi state table).
    expect(web.secrets.map((s) => s.name).sort()).toEqual(["WEB_DATABASE_PASSWORD"]);
    expect(work.secrets.map((s) => s.name).sort()).toEqual([
      "DATABASE_PASSWORD",
      "DATABASE_USER",
      "PULUMI_CONFIG_PASSPHRASE",
      "WEB_DATABASE_PASSWORD",
    ]);
    expect(envOf(web).WEB_DATABASE_USER).toBe("portal_web");
    expect(envOf(work).WEB_DATABASE_USER).toBe("portal_web");
    for (const c of [web, work]) {
      const env = envOf(c);
      expect(env).toMatchObject({ DATABASE_SSLMODE: "verify-full", LOCAL_TARGET: "off" });
      expect(Object.keys(env)).not.toContain("DATABASE_PASSWORD");
      expect(Object.keys(env)).not.toContain("DATABASE_URL");
    }
    expect(envOf(work)).toMatchObject({ PORTAL_ROLE: "worker", AWS_REGIONS: "eu-west-1,us-east-1" });
    expect(envOf(work).VOTING_APP_IMAGE).toMatch(/voting-app@sha256:/);
    expect(envOf(work).AWS_ENVIRONMENT_ROLE_BOUNDARY).toBe(res.one("aws:iam/policy:Policy").state.arn);
  });

  it("starts the web service after the worker (whose start migrates and creates the web's database role)", () => {
    expect(dependsOn("aws:ecs/service:Service", "portal-web")).toContain(
      "aws:ecs/service:Service portal-worker",
    );
    expect(dependsOn("aws:ecs/service:Service", "portal-worker")).not.toContain(
      "aws:ecs/service:Service portal-web",
    );
  });

  it("has a task role for the worker only; the web process has no AWS permissions", () => {
    expect(taskOf(res, "web").inputs.taskRoleArn).toBeUndefined();
    expect(taskOf(res, "worker").inputs.taskRoleArn).toBe(res.named(T.role, "portal-worker").state.arn);
  });

  it("scales web and worker on their own", () => {
    const target = (role: string) => res.named(T.scalingTarget, `portal-${role}`);
    expect(target("web").inputs).toMatchObject({ minCapacity: 2, maxCapacity: 6 });
    expect(target("worker").inputs).toMatchObject({ minCapacity: 1, maxCapacity: 4 });
    const metrics = (role: string) =>
      res
        .ofType(T.scalingPolicy)
        .filter((p) => p.inputs.resourceId === target(role).inputs.resourceId)
        .map(
          (p) =>
            p.inputs.targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification
              .predefinedMetricType,
        )
        .sort();
    expect(metrics("web")).toEqual(["ALBRequestCountPerTarget", "ECSServiceAverageCPUUtilization"]);
    expect(metrics("worker")).toEqual([
      "ECSServiceAverageCPUUtilization",
      "ECSServiceAverageMemoryUtilization",
    ]);
    for (const role of ["web", "worker"]) {
      expect(serviceOf(res, role).inputs.networkConfiguration.assignPublicIp).toBe(false);
      expect(serviceOf(res, role).inputs.networkConfiguration.subnets).toEqual(NETWORK.privateSubnetIds);
    }
  });

  it("tags nothing of its own ManagedBy=platform-portal, so its worker can never change the portal", () => {
    for (const r of res.all.filter((r) => r.inputs.tags)) {
      expect(r.inputs.tags.ManagedBy, `${r.type} ${r.name}`).toBe(PORTAL_MANAGED_BY);
    }
    // The log groups lie outside the worker's /platform/ prefix too.
    for (const g of res.ofType(T.logGroup)) expect(g.inputs.name).toMatch(/^\/portal\//);
  });

  describe("the worker's role", () => {
    const statements = () => worker.Statement;
    const allows = (action: string) =>
      statements().filter((s) => s.Effect === "Allow" && s.Action.some((a) => a === action));

    it("has no *:*, no service-wide wildcard, and wildcards only on read-only calls", () => {
      for (const s of statements()) {
        for (const action of s.Action) {
          expect(action, s.Sid).not.toBe("*");
          expect(action, s.Sid).not.toMatch(/:\*$/);
          if (action.includes("*")) expect(action, s.Sid).toMatch(READ_ONLY_WILDCARD);
        }
      }
      expect(JSON.stringify(worker)).not.toContain('"*:*"');
    });

    it("creates only what it tags, and changes only what carries the platform's tag", () => {
      const createLike = /:(Create|Allocate|Register|Authorize)[A-Za-z]*$/;
      for (const s of statements().filter((s) => s.Action.some((a) => createLike.test(a)))) {
        // Either the request must carry the tag, or the resource must already, or it is scoped by name/path.
        const scoped =
          JSON.stringify(s.Condition ?? {}).includes("ManagedBy") ||
          s.Resource.every((r) =>
            /role\/platform\/environments\/|secret:platform\/environments\/|log-group:\/platform\/|aws-service-role/.test(
              r,
            ),
          ) ||
          // AWS's own default groups and the secrets RDS creates for a database's password: by name.
          s.Resource.every((r) => /:pg:default\.\*$|:og:default:\*$|:secret:rds!\*$/.test(r)) ||
          // Grants only for AWS services' own resources.
          JSON.stringify(s.Condition ?? {}).includes('"kms:GrantIsForAWSResource":"true"') ||
          s.Sid === "Ec2SecurityGroupsInNetworks" ||
          s.Sid === "AutoScalingOfServices";
        expect(scoped, s.Sid).toBe(true);
      }
      const deletes = statements().filter(
        (s) => s.Action.some((a) => /:Delete[A-Za-z]*$/.test(a)) && s.Effect === "Allow",
      );
      for (const s of deletes) {
        const scoped =
          JSON.stringify(s.Condition ?? {}).includes("aws:ResourceTag/ManagedBy") ||
          s.Resource.every((r) =>
            /role\/platform\/environments\/|secret:platform\/environments\/|log-group:\/platform\/|alarm:TargetTracking-/.test(
              r,
            ),
          ) ||
          s.Sid === "AutoScalingOfServices";
        expect(scoped, s.Sid).toBe(true);
      }
    });

    it("manages IAM roles under /platform/environments/ only, with the boundary, passed to ECS tasks only", () => {
      const iam = statements().filter((s) => s.Action.some((a) => a.startsWith("iam:")));
      for (const s of iam) {
        for (const r of s.Resource)
          expect(r, s.Sid).toMatch(/:role\/(platform\/environments\/\*|aws-service-role\/\*)$/);
      }
      const create = allows("iam:CreateRole")[0] as PolicyStatement;
      expect(create.Condition?.StringEquals?.["iam:PermissionsBoundary"]).toBe(
        res.one("aws:iam/policy:Policy").state.arn,
      );
      const attach = allows("iam:AttachRolePolicy")[0] as PolicyStatement;
      expect(attach.Condition?.ArnEquals?.["iam:PolicyARN"]).toBe(
        "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
      );
      expect((allows("iam:PassRole")[0] as PolicyStatement).Condition).toEqual({
        StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" },
      });
      expect(statements().find((s) => s.Effect === "Deny")?.Action).toEqual([
        "iam:DeleteRolePermissionsBoundary",
      ]);
    });

    it("never reads a database password, and environment roles can never read the portal's secrets", () => {
      // RDS creates a database's `rds!db-…` secret with the worker's permissions; reading one is not needed.
      expect(
        statements().filter(
          (s) =>
            s.Effect === "Allow" &&
            s.Action.includes("secretsmanager:GetSecretValue") &&
            s.Resource.some((r) => r.includes("secret:rds!")),
        ),
      ).toEqual([]);
      const boundary = JSON.parse(res.one("aws:iam/policy:Policy").inputs.policy) as PolicyDocument;
      const reads = boundary.Statement.find((s) => s.Sid === "ReadEnvironmentSecrets");
      expect(reads?.Resource).toEqual([
        "arn:aws:secretsmanager:*:123456789012:secret:platform/environments/*",
        "arn:aws:secretsmanager:*:123456789012:secret:rds!db-*",
      ]);
      // The portal's own database password matches rds!db-* too: denied by ARN, with its other two secrets.
      const deny = boundary.Statement.find((s) => s.Effect === "Deny");
      expect(deny?.Action).toEqual(["secretsmanager:*"]);
      expect(deny?.Resource).toEqual([
        res.one(T.dbInstance).state.masterUserSecrets[0].secretArn,
        res.named(T.secret, "portal-pulumi-passphrase").state.arn,
        res.named(T.secret, "portal-web-db-password").state.arn,
      ]);
      expect(deny?.Resource[0]).toMatch(/:secret:rds!db-/);
    });

    it("may protect its own task from scale-in, in the portal's cluster only", () => {
      const own = statements().find((s) => s.Sid === "OwnTaskScaleInProtection");
      expect(own).toMatchObject({
        Action: ["ecs:UpdateTaskProtection", "ecs:GetTaskProtection"],
        Resource: [`arn:aws:ecs:eu-west-1:123456789012:task/${res.one(T.cluster).state.name}/*`],
      });
    });

    it("limits regional calls to the portal's environment regions", () => {
      for (const s of statements().filter(
        // IAM is global; its own task lives in the portal's region, which need not be an environment region.
        (s) =>
          s.Effect === "Allow" &&
          !s.Action.some((a) => a.startsWith("iam:")) &&
          s.Sid !== "OwnTaskScaleInProtection",
      )) {
        expect(JSON.stringify(s.Condition), s.Sid).toContain(
          '"aws:RequestedRegion":["eu-west-1","us-east-1"]',
        );
      }
    });
  });

  it("refuses bad args before registering anything", async () => {
    const recorder = await installMocks();
    expect(() => new PortalOnAws("portal", portalArgs({ environmentRegions: [] }))).toThrow(PortalArgsError);
    expect(() => new PortalOnAws("portal", portalArgs({ certificateArn: "my-cert" }))).toThrow(
      /certificateArn/,
    );
    expect(
      () =>
        new PortalOnAws("portal", portalArgs({ oidc: { ...portalArgs().oidc, issuer: "http://insecure" } })),
    ).toThrow(/oidc.issuer: oidc.issuer must be an https:\/\/ URL/);
    expect(() => new PortalOnAws("portal", portalArgs({ worker: { cpu: 256, memory: 8192 } }))).toThrow(
      /worker.memory: cpu 256 with memory 8192 MiB is not a Fargate size/,
    );
    await settle();
    expect(recorder.resources).toHaveLength(0);
  });

  it("writes every ARN for the partition (China)", async () => {
    const { res: cn } = await buildPortal(
      {
        certificateArn:
          "arn:aws-cn:acm:cn-north-1:123456789012:certificate/12345678-1234-1234-1234-123456789012",
        environmentRegions: ["cn-north-1"],
      },
      { region: "cn-north-1" },
    );
    const arns = cn.all.flatMap((r) => JSON.stringify(r.inputs).match(/arn:[a-z-]+:/g) ?? []);
    expect(arns.length).toBeGreaterThan(10);
    for (const arn of arns) expect(arn).toBe("arn:aws-cn:");
  });
});

// ---- the worker's permissions cover what the programs it runs create ----

/** The IAM action that creates each resource type the environment and network programs register. */
const CREATE_ACTION: Record<string, string | null> = {
  "aws:ec2/vpc:Vpc": "ec2:CreateVpc",
  "aws:ec2/subnet:Subnet": "ec2:CreateSubnet",
  "aws:ec2/internetGateway:InternetGateway": "ec2:CreateInternetGateway",
  "aws:ec2/routeTable:RouteTable": "ec2:CreateRouteTable",
  "aws:ec2/routeTableAssociation:RouteTableAssociation": "ec2:AssociateRouteTable",
  "aws:ec2/eip:Eip": "ec2:AllocateAddress",
  "aws:ec2/natGateway:NatGateway": "ec2:CreateNatGateway",
  "aws:ec2/vpcEndpoint:VpcEndpoint": "ec2:CreateVpcEndpoint",
  "aws:ec2/securityGroup:SecurityGroup": "ec2:CreateSecurityGroup",
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "ec2:AuthorizeSecurityGroupIngress",
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "ec2:AuthorizeSecurityGroupEgress",
  "aws:lb/loadBalancer:LoadBalancer": "elasticloadbalancing:CreateLoadBalancer",
  "aws:lb/targetGroup:TargetGroup": "elasticloadbalancing:CreateTargetGroup",
  "aws:lb/listener:Listener": "elasticloadbalancing:CreateListener",
  "aws:ecs/cluster:Cluster": "ecs:CreateCluster",
  "aws:ecs/taskDefinition:TaskDefinition": "ecs:RegisterTaskDefinition",
  "aws:ecs/service:Service": "ecs:CreateService",
  "aws:iam/role:Role": "iam:CreateRole",
  "aws:iam/rolePolicy:RolePolicy": "iam:PutRolePolicy",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "iam:AttachRolePolicy",
  "aws:secretsmanager/secret:Secret": "secretsmanager:CreateSecret",
  "aws:secretsmanager/secretVersion:SecretVersion": "secretsmanager:PutSecretValue",
  "aws:cloudwatch/logGroup:LogGroup": "logs:CreateLogGroup",
  "aws:appautoscaling/target:Target": "application-autoscaling:RegisterScalableTarget",
  "aws:appautoscaling/policy:Policy": "application-autoscaling:PutScalingPolicy",
  "aws:elasticache/subnetGroup:SubnetGroup": "elasticache:CreateCacheSubnetGroup",
  "aws:elasticache/replicationGroup:ReplicationGroup": "elasticache:CreateReplicationGroup",
  "aws:rds/subnetGroup:SubnetGroup": "rds:CreateDBSubnetGroup",
  "aws:rds/instance:Instance": "rds:CreateDBInstance",
  // Not AWS calls.
  "random:index/randomPassword:RandomPassword": null,
  "random:index/randomId:RandomId": null,
  "pulumi:providers:aws": null,
  "pulumi:pulumi:StackReference": null,
  "platform:aws:VotingEnvironment": null,
  "platform:aws:Network": null,
};

describe("the worker may run every program it runs", () => {
  it("has an Allow for the create action of each resource type an environment or a network registers", async () => {
    const types = new Set<string>();
    for (const natGateways of ["single", "onePerAz"] as const) {
      const recorder = await installMocks();
      await promiseOf(
        pulumi.output(await awsNetworkProgram({ name: "aws-eu-west-1", region: "eu-west-1", natGateways })()),
      );
      await settle();
      for (const r of recorder.resources) types.add(r.type);
    }
    const recorder = await installMocks({
      stacks: { [networkStackReferenceName("aws-eu-west-1")]: NETWORK_OUTPUTS },
    });
    const program = awsEnvironmentProgram(
      { name: "full", target: "aws", frontendReplicas: 2, redisReplicas: 3, aws: { region: "eu-west-1" } },
      {
        appPath: appDir,
        frontendImage: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/voting-app:1",
        frontend: { cpu: 256, memory: 512, autoscaling: { min: 1, max: 4, targetCpu: 60 } },
        redis: { cpu: 256, memory: 512, autoscaling: { min: 1, max: 4, targetCpu: 60 } },
      },
    );
    await promiseOf(pulumi.output(await program()));
    await settle();
    for (const r of recorder.resources) types.add(r.type);
    // And with every option: a managed cache, a database with deletion protection (its final snapshot's name).
    const withOptions = await installMocks({
      stacks: { [networkStackReferenceName("aws-eu-west-1")]: NETWORK_OUTPUTS },
    });
    await promiseOf(
      pulumi.output(
        await awsEnvironmentProgram(
          {
            name: "opts",
            target: "aws",
            frontendReplicas: 1,
            redisReplicas: 2,
            cache: { kind: "elasticache" },
            database: { engine: "postgres", deletionProtection: true },
            aws: { region: "eu-west-1" },
          },
          { appPath: appDir, frontendImage: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/voting-app:1" },
        )(),
      ),
    );
    await settle();
    for (const r of withOptions.resources) types.add(r.type);
    expect(types).toContain("aws:rds/instance:Instance");
    expect(types).toContain("aws:elasticache/replicationGroup:ReplicationGroup");

    const policy = workerPolicy({
      partition: "aws",
      accountId: "123456789012",
      regions: ["eu-west-1"],
      boundaryArn: "arn:aws:iam::123456789012:policy/portal/boundary",
    });
    const allowed = new Set(policy.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => s.Action));
    for (const type of types) {
      // A resource type new to the programs needs its permission here (and in worker-policy.ts) first.
      expect(
        Object.keys(CREATE_ACTION),
        `unknown resource type ${type}: add it to the worker policy`,
      ).toContain(type);
      const action = CREATE_ACTION[type];
      if (action) expect(allowed, `${type} needs ${action}`).toContain(action);
    }
  });
});

describe("the deployment program", () => {
  it("creates the portal's own network and the portal from the stack's configuration", async () => {
    const recorder = await installMocks();
    pulumi.runtime.setAllConfig(
      {
        "aws:region": "eu-west-1",
        "portal:domainName": "portal.example.com",
        "portal:certificateArn": CERT,
        "portal:oidcIssuer": "https://login.example.com",
        "portal:oidcAuthorizationEndpoint": "https://login.example.com/authorize",
        "portal:oidcTokenEndpoint": "https://login.example.com/token",
        "portal:oidcUserInfoEndpoint": "https://login.example.com/userinfo",
        "portal:oidcClientId": "portal-client",
        "portal:oidcClientSecret": CLIENT_SECRET,
        "portal:environmentRegions": "eu-west-1,eu-central-1",
        "portal:image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/portal:1",
        "portal:votingAppImage": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/voting-app:1",
      },
      ["portal:oidcClientSecret"],
    );
    try {
      const outputs = (await promiseOf(pulumi.output(await deployPortal()))) as Props;
      await settle();
      const res = new Resources(recorder.resources);
      expect(outputs).toMatchObject({ url: "https://portal.example.com", network: "portal-network" });
      expect(res.one(T.vpc).inputs.cidrBlock).toBe("10.0.0.0/16");
      expect(res.one("platform:aws:Portal")).toBeDefined();
      const alb = res.one(T.lb);
      const publicSubnets = res
        .ofType(T.subnet)
        .filter((s) => s.inputs.tags.Tier === "public")
        .map((s) => s.id);
      expect(alb.inputs.subnets).toEqual(publicSubnets);
      const policy = policyOf(res.named(T.rolePolicy, "portal-worker"));
      expect(JSON.stringify(policy)).toContain('"aws:RequestedRegion":["eu-west-1","eu-central-1"]');
    } finally {
      pulumi.runtime.setAllConfig({});
    }
  });
});
