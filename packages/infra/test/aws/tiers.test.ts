// The options of the cache and database tiers under Pulumi mocks: ElastiCache instead of Redis on Fargate, and an
// RDS PostgreSQL database. What each resource is configured with, who can reach it, and exactly which settings and
// secrets the frontend receives.
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { describe, expect, it } from "vitest";
import {
  awsEnvironmentProgram,
  VotingEnvironment,
  type VotingEnvironmentArgs,
  VotingEnvironmentArgsError,
} from "../../src/aws";
import {
  baseArgs,
  buildEnvironment,
  containerOf,
  DB_SECRET_ARN,
  envOf,
  installMocks,
  MOCK_PASSWORD,
  PRIVATE_SUBNETS,
  promiseOf,
  type Recorded,
  type Resources,
  settle,
  T,
  WITH_NETWORK,
} from "./harness";

const ELASTICACHE = { kind: "elasticache", nodeType: "cache.t4g.small" } as const;
const POSTGRES = {
  engine: "postgres",
  instanceClass: "db.t4g.small",
  storageGb: 50,
  backupRetentionDays: 7,
} as const;

function secretValue(v: unknown): unknown {
  expect(v).toMatchObject({ [specialSigKey]: specialSecretSig });
  return (v as { value: unknown }).value;
}

function frontendTask(res: Resources): Recorded {
  return res.one(T.taskDefinition, (t) => t.inputs.family.endsWith("-frontend"));
}

/** "<group> <in|out> <port> <peer>" for every rule touching the group named `group`. */
function rulesOf(res: Resources, group: string): string[] {
  const lines: string[] = [];
  for (const [type, dir] of [
    [T.ingress, "in"],
    [T.egress, "out"],
  ] as const) {
    for (const r of res.ofType(type)) {
      const own = res.byRef(r.inputs.securityGroupId).name;
      const peer = r.inputs.referencedSecurityGroupId
        ? res.byRef(r.inputs.referencedSecurityGroupId).name
        : r.inputs.cidrIpv4;
      if (own === group || peer === group) lines.push(`${own} ${dir} ${r.inputs.fromPort} ${peer}`);
    }
  }
  return lines.sort();
}

describe("cache: ElastiCache", () => {
  it("is a replication group with failover and Multi-AZ across its nodes, encrypted, with the auth token", async () => {
    const { res, outputs } = await buildEnvironment({ name: "ecg", redisReplicas: 3, cache: ELASTICACHE });
    const group = res.one(T.replicationGroup);
    expect(group.inputs).toMatchObject({
      replicationGroupId: "ecg-cache",
      engine: "redis",
      nodeType: "cache.t4g.small",
      numCacheClusters: 3,
      port: 6379,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      atRestEncryptionEnabled: true,
    });
    // The AUTH token is the environment's password: a Pulumi secret, the value kept in Secrets Manager.
    expect(secretValue(group.inputs.authToken)).toBe(MOCK_PASSWORD);
    expect(secretValue(res.one(T.secretVersion).inputs.secretString)).toBe(MOCK_PASSWORD);
    // In the private subnets, in its own group.
    const subnets = res.one(T.cacheSubnetGroup);
    expect(subnets.inputs.subnetIds).toEqual(PRIVATE_SUBNETS);
    expect(group.inputs.subnetGroupName).toBe(subnets.state.name);
    expect(group.inputs.securityGroupIds.map((id: string) => res.byRef(id).name)).toEqual(["ecg-cache"]);
    // Endpoints: the primary for writes, the reader for tallies.
    expect(outputs.redisWriterEndpoint).toBe(`${group.state.primaryEndpointAddress}:6379`);
    expect(outputs.redisReaderEndpoint).toBe(`${group.state.readerEndpointAddress}:6379`);
  });

  it("has no failover or Multi-AZ with a single node (both need a replica), and no reader endpoint", async () => {
    const { res, outputs } = await buildEnvironment({ name: "ec1", redisReplicas: 1, cache: ELASTICACHE });
    expect(res.one(T.replicationGroup).inputs).toMatchObject({
      numCacheClusters: 1,
      automaticFailoverEnabled: false,
      multiAzEnabled: false,
    });
    expect(outputs.redisReaderEndpoint).toBeUndefined();
    expect(envOf(containerOf(frontendTask(res))).REDIS_READ_HOST).toBeUndefined();
  });

  it("replaces the Redis tasks and their load balancer entirely", async () => {
    const { res, outputs } = await buildEnvironment({ name: "ec2", redisReplicas: 2, cache: ELASTICACHE });
    expect(res.ofType(T.service).map((s) => s.name)).toEqual(["ec2-frontend"]);
    expect(res.ofType(T.lb).map((l) => l.inputs.loadBalancerType)).toEqual(["application"]);
    expect(
      res
        .ofType(T.sg)
        .map((g) => g.name)
        .sort(),
    ).toEqual(["ec2-alb", "ec2-cache", "ec2-frontend"]);
    expect(outputs.serviceNames).toEqual({ frontend: "ec2-frontend" });
  });

  it("admits Redis from the frontend tasks only", async () => {
    const { res } = await buildEnvironment({ name: "ec3", redisReplicas: 2, cache: ELASTICACHE });
    expect(rulesOf(res, "ec3-cache")).toEqual([
      "ec3-cache in 6379 ec3-frontend",
      "ec3-frontend out 6379 ec3-cache",
    ]);
  });

  it("is what the frontend talks to, over TLS with the token as an ECS secret", async () => {
    const { res } = await buildEnvironment({ name: "ec4", redisReplicas: 2, cache: ELASTICACHE });
    const group = res.one(T.replicationGroup);
    const container = containerOf(frontendTask(res));
    expect(envOf(container)).toMatchObject({
      REDIS_HOST: group.state.primaryEndpointAddress,
      REDIS_PORT: "6379",
      REDIS_READ_HOST: group.state.readerEndpointAddress,
      REDIS_READ_PORT: "6379",
      REDIS_TLS: "true",
    });
    expect(container.secrets).toEqual([{ name: "REDIS_PASSWORD", valueFrom: res.one(T.secret).state.arn }]);
  });

  it("is chosen by the spec through the program", async () => {
    const recorder = await installMocks(WITH_NETWORK);
    const program = awsEnvironmentProgram(
      {
        name: "ecp",
        target: "aws",
        frontendReplicas: 1,
        redisReplicas: 2,
        cache: { kind: "elasticache" },
        aws: { region: "eu-west-1" },
      },
      { appPath: baseArgs().appPath },
    );
    const outputs = await program();
    await promiseOf(outputs.redisWriterEndpoint);
    await settle();
    const group = recorder.resources.filter((r: Recorded) => r.type === T.replicationGroup);
    expect(group).toHaveLength(1);
    expect(group[0]?.inputs.nodeType).toBe("cache.t4g.micro"); // the default node type
  });
});

describe("database: RDS PostgreSQL", () => {
  it("is private, encrypted, with credentials managed by RDS in Secrets Manager", async () => {
    const { res, outputs } = await buildEnvironment({ name: "dbx", database: POSTGRES });
    const db = res.one(T.dbInstance);
    expect(db.inputs).toMatchObject({
      identifier: "dbx-db",
      engine: "postgres",
      instanceClass: "db.t4g.small",
      allocatedStorage: 50,
      storageType: "gp3",
      storageEncrypted: true,
      publiclyAccessible: false,
      manageMasterUserPassword: true,
      backupRetentionPeriod: 7,
      port: 5432,
    });
    // No password of ours anywhere near it: RDS makes and keeps it.
    expect(db.inputs.password).toBeUndefined();
    const subnets = res.one(T.dbSubnetGroup);
    expect(subnets.inputs.subnetIds).toEqual(PRIVATE_SUBNETS);
    expect(db.inputs.dbSubnetGroupName).toBe(subnets.state.name);
    expect(db.inputs.vpcSecurityGroupIds.map((id: string) => res.byRef(id).name)).toEqual(["dbx-db"]);
    expect(outputs.databaseEndpoint).toBe(`${db.state.address}:5432`);
  });

  it("has deletion protection off by default (ephemeral: no final snapshot) and on when asked", async () => {
    const off = await buildEnvironment({ name: "dbe", database: POSTGRES });
    expect(off.res.one(T.dbInstance).inputs).toMatchObject({
      deletionProtection: false,
      skipFinalSnapshot: true,
    });
    expect(off.res.one(T.dbInstance).inputs.finalSnapshotIdentifier).toBeUndefined();
    const on = await buildEnvironment({ name: "dbk", database: { ...POSTGRES, deletionProtection: true } });
    expect(on.res.one(T.dbInstance).inputs).toMatchObject({
      deletionProtection: true,
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: "dbk-db-final-0a1b2c3d",
    });
  });

  it("admits PostgreSQL from the frontend tasks only", async () => {
    const { res } = await buildEnvironment({ name: "dbs", database: POSTGRES });
    expect(rulesOf(res, "dbs-db")).toEqual(["dbs-db in 5432 dbs-frontend", "dbs-frontend out 5432 dbs-db"]);
  });

  it("gives the frontend the endpoint and the managed password, and the execution role only that secret more", async () => {
    const { res } = await buildEnvironment({ name: "dbf", redisReplicas: 2, database: POSTGRES });
    const db = res.one(T.dbInstance);
    const container = containerOf(frontendTask(res));
    expect(envOf(container)).toMatchObject({
      DATABASE_HOST: db.state.address,
      DATABASE_PORT: "5432",
      DATABASE_NAME: "voting",
      DATABASE_USER: "voting_admin",
      DATABASE_SSL: "require",
    });
    expect(container.secrets).toEqual([
      { name: "REDIS_PASSWORD", valueFrom: res.one(T.secret).state.arn },
      { name: "DATABASE_PASSWORD", valueFrom: `${DB_SECRET_ARN}:password::` },
    ]);
    const policy = JSON.parse(res.one(T.rolePolicy).inputs.policy as string);
    expect(policy.Statement).toEqual([
      {
        Effect: "Allow",
        Action: ["secretsmanager:GetSecretValue"],
        Resource: [res.one(T.secret).state.arn, DB_SECRET_ARN],
      },
    ]);
    // The Redis tasks get nothing of the database.
    for (const task of res.ofType(T.taskDefinition).filter((t) => t !== frontendTask(res))) {
      const c = containerOf(task);
      expect(Object.keys(envOf(c)).filter((k) => k.startsWith("DATABASE_"))).toEqual([]);
      expect(c.secrets.map((s) => s.name)).toEqual(["REDIS_PASSWORD"]);
    }
  });

  it("starts the frontend after the database exists", async () => {
    const { dependenciesOf } = await buildEnvironment({ name: "dbo", database: POSTGRES });
    expect(dependenciesOf(T.service, "dbo-frontend")).toContain(`${T.dbInstance} dbo-db`);
  });
});

describe("the frontend gets what it needs and nothing more", () => {
  const cases: [string, Partial<VotingEnvironmentArgs>, string[], string[]][] = [
    ["Redis on Fargate, no database", {}, ["PORT", "REDIS_HOST", "REDIS_PORT"], ["REDIS_PASSWORD"]],
    [
      "ElastiCache with replicas and PostgreSQL",
      { redisReplicas: 2, cache: ELASTICACHE, database: POSTGRES },
      [
        "DATABASE_HOST",
        "DATABASE_NAME",
        "DATABASE_PORT",
        "DATABASE_SSL",
        "DATABASE_USER",
        "PORT",
        "REDIS_HOST",
        "REDIS_PORT",
        "REDIS_READ_HOST",
        "REDIS_READ_PORT",
        "REDIS_TLS",
      ],
      ["REDIS_PASSWORD", "DATABASE_PASSWORD"],
    ],
  ];
  it.each(cases)("%s", async (_label, args, env, secrets) => {
    const { res } = await buildEnvironment({ name: "need", ...args });
    const container = containerOf(frontendTask(res));
    expect(Object.keys(envOf(container)).sort()).toEqual(env);
    expect(container.secrets.map((s) => s.name)).toEqual(secrets);
    // No secret value in plain settings.
    expect(JSON.stringify(container.environment)).not.toContain(MOCK_PASSWORD);
  });
});

describe("validation", () => {
  it.each([
    [{ cache: { kind: "memcached" } }, "cache.kind"],
    [{ cache: { kind: "elasticache", nodeType: "cache.x1.huge" } }, "cache.nodeType"],
    [{ database: { engine: "postgres", instanceClass: "db.x1.huge" } }, "database.instanceClass"],
    [{ database: { engine: "postgres", storageGb: 10 } }, "database.storageGb"],
    [{ database: { engine: "postgres", backupRetentionDays: 40 } }, "database.backupRetentionDays"],
    [{ database: { engine: "mysql" } }, "database.engine"],
    [
      {
        cache: ELASTICACHE,
        redisReplicas: 3,
        redis: { cpu: 256, memory: 512, autoscaling: { min: 1, max: 4 } },
      },
      "redis.autoscaling",
    ],
  ])("rejects %j", async (args, message) => {
    await installMocks();
    expect(() => new VotingEnvironment("bad", baseArgs(args as Partial<VotingEnvironmentArgs>))).toThrow(
      VotingEnvironmentArgsError,
    );
    expect(() => new VotingEnvironment("bad", baseArgs(args as Partial<VotingEnvironmentArgs>))).toThrow(
      message,
    );
  });
});
