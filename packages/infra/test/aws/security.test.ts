// Network and secret security of a generated environment: the exact security-group rule set, an exposure check
// over every group and rule, and the Redis password's path (Secrets Manager → execution role → ECS secret).

import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { describe, expect, it } from "vitest";
import type { VotingEnvironmentArgs } from "../../src/aws";
import { buildEnvironment, containersOf, MOCK_PASSWORD, type Recorded, type Resources, T } from "./harness";

const CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";
const INTERNET = new Set(["0.0.0.0/0", "::/0"]);

/** The mocks receive Pulumi secrets in their wire form; this asserts the value is one and unwraps it. */
function secretValue(v: unknown): unknown {
  expect(v).toMatchObject({ [specialSigKey]: specialSecretSig });
  return (v as { value: unknown }).value;
}

/** One line per rule: "<group> <in|out> <protocol> <port(s)> <peer group or CIDR>". */
function ruleSet(res: Resources): string[] {
  const line = (r: Recorded, direction: string) => {
    const i = r.inputs;
    const ports = i.fromPort === i.toPort ? `${i.fromPort}` : `${i.fromPort}-${i.toPort}`;
    const peer = i.referencedSecurityGroupId
      ? res.byRef(i.referencedSecurityGroupId).name
      : (i.cidrIpv4 ?? i.cidrIpv6 ?? i.prefixListId);
    return `${res.byRef(i.securityGroupId).name} ${direction} ${i.ipProtocol} ${ports} ${peer}`;
  };
  return [
    ...res.ofType(T.ingress).map((r) => line(r, "in")),
    ...res.ofType(T.egress).map((r) => line(r, "out")),
  ].sort();
}

/** The rules of every environment (`e` is its name): the smallest environment has exactly these. */
function baseRules(e: string): string[] {
  return [
    // The ALB takes 80 from anywhere and talks only to the frontend tasks.
    `${e}-alb in tcp 80 0.0.0.0/0`,
    `${e}-alb out tcp 8080 ${e}-frontend`,
    // Frontend tasks take the app port only from the ALB's group; they reach Redis and AWS APIs.
    `${e}-frontend in tcp 8080 ${e}-alb`,
    `${e}-frontend out tcp 6379 ${e}-redis-nlb`,
    `${e}-frontend out tcp 443 0.0.0.0/0`,
    // The NLB (the only way to Redis) takes the writer port from the frontend's group.
    `${e}-redis-nlb in tcp 6379 ${e}-frontend`,
    `${e}-redis-nlb out tcp 6379 ${e}-redis`,
    // Redis tasks take 6379 only through the NLB.
    `${e}-redis in tcp 6379 ${e}-redis-nlb`,
    `${e}-redis out tcp 443 0.0.0.0/0`,
  ];
}

describe("security-group rules are exactly as stated", () => {
  it("without replicas and without a certificate: no 443, no reader port, no replication path", async () => {
    const { res } = await buildEnvironment({ name: "sec1", redisReplicas: 1 });
    expect(ruleSet(res)).toEqual(baseRules("sec1").sort());
  });

  it("with read replicas and HTTPS", async () => {
    const { res } = await buildEnvironment({ name: "sec", redisReplicas: 3, certificateArn: CERT });
    expect(ruleSet(res)).toEqual(
      [
        ...baseRules("sec"),
        "sec-alb in tcp 443 0.0.0.0/0",
        // The reader endpoint, from the frontend only.
        "sec-frontend out tcp 6380 sec-redis-nlb",
        "sec-redis-nlb in tcp 6380 sec-frontend",
        // Replicas replicate from the writer endpoint.
        "sec-redis out tcp 6379 sec-redis-nlb",
        "sec-redis-nlb in tcp 6379 sec-redis",
      ].sort(),
    );
  });

  it("attaches the groups as stated: ALB, NLB, frontend tasks, Redis tasks", async () => {
    const { res } = await buildEnvironment({ name: "att", redisReplicas: 2 });
    const groupsOf = (ids: string[]) => ids.map((id) => res.byRef(id).name);
    const lbs = res.ofType(T.lb);
    const alb = lbs.find((l) => l.inputs.loadBalancerType === "application");
    const nlb = lbs.find((l) => l.inputs.loadBalancerType === "network");
    expect(groupsOf(alb?.inputs.securityGroups)).toEqual(["att-alb"]);
    expect(groupsOf(nlb?.inputs.securityGroups)).toEqual(["att-redis-nlb"]);
    const svc = (n: string) => groupsOf(res.named(T.service, n).inputs.networkConfiguration.securityGroups);
    expect(svc("att-frontend")).toEqual(["att-frontend"]);
    expect(svc("att-redis-writer")).toEqual(["att-redis"]);
    expect(svc("att-redis-replicas")).toEqual(["att-redis"]);
    // Tasks see the NLB as the source only with client IP preservation off (see security-groups.ts).
    for (const tg of res.ofType(T.targetGroup).filter((t) => t.inputs.protocol === "TCP")) {
      expect(tg.inputs.preserveClientIp).toBe("false");
    }
  });
});

it("uses only characters AWS accepts in security-group and rule descriptions", async () => {
  const { res } = await buildEnvironment({ name: "desc", redisReplicas: 2, certificateArn: CERT });
  const described = [...res.ofType(T.sg), ...res.ofType(T.ingress), ...res.ofType(T.egress)];
  expect(described.length).toBeGreaterThan(10);
  for (const r of described) {
    expect(r.inputs.description, r.name).toMatch(/^[a-zA-Z0-9. _\-:/()#,@[\]+=&;{}!$*]{1,255}$/);
  }
});

describe("nothing but the ALB's listener ports is open to the internet", () => {
  const variants: [string, Partial<VotingEnvironmentArgs>][] = [
    ["minimal", { name: "exp1", redisReplicas: 1 }],
    ["replicas + https", { name: "exp2", redisReplicas: 4, certificateArn: CERT }],
    [
      "existing vpc + autoscaling",
      {
        name: "exp3",
        redisReplicas: 2,
        network: {
          vpcId: "vpc-0123456789abcdef0",
          privateSubnetIds: ["subnet-0123456789abcdef1", "subnet-0123456789abcdef2"],
          publicSubnetIds: ["subnet-0123456789abcdef3", "subnet-0123456789abcdef4"],
        },
        frontend: { cpu: 256, memory: 512, autoscaling: { min: 1, max: 4, targetCpu: 60 } },
      },
    ],
  ];
  for (const [label, args] of variants) {
    it(label, async () => {
      const { res } = await buildEnvironment(args);
      const alb = res.one(T.lb, (l) => l.inputs.loadBalancerType === "application");
      const listenerPorts = res
        .ofType(T.listener)
        .filter((l) => l.inputs.loadBalancerArn === alb.state.arn)
        .map((l) => l.inputs.port as number);
      const albGroups = new Set(alb.inputs.securityGroups as string[]);

      // Groups carry no inline rules (those would escape the explicit rule resources) …
      for (const sg of res.ofType(T.sg)) {
        expect(sg.inputs.ingress ?? []).toEqual([]);
        expect(sg.inputs.egress ?? []).toEqual([]);
      }
      // … and no legacy rule resources exist.
      expect(res.ofType("aws:ec2/securityGroupRule:SecurityGroupRule")).toHaveLength(0);

      const openToInternet = res
        .ofType(T.ingress)
        .filter((r) => INTERNET.has(r.inputs.cidrIpv4) || INTERNET.has(r.inputs.cidrIpv6));
      expect(openToInternet.length).toBeGreaterThan(0);
      for (const rule of openToInternet) {
        expect(albGroups.has(rule.inputs.securityGroupId), `${rule.name} is not on the ALB's group`).toBe(
          true,
        );
        expect(rule.inputs.ipProtocol).toBe("tcp");
        expect(rule.inputs.fromPort).toBe(rule.inputs.toPort);
        expect(listenerPorts).toContain(rule.inputs.fromPort);
      }
      // Every other ingress rule names a source group, never an address range.
      for (const rule of res.ofType(T.ingress).filter((r) => !openToInternet.includes(r))) {
        expect(rule.inputs.referencedSecurityGroupId, rule.name).toBeTruthy();
        expect(rule.inputs.cidrIpv4 ?? rule.inputs.cidrIpv6 ?? rule.inputs.prefixListId).toBeUndefined();
        expect(rule.inputs.ipProtocol).not.toBe("-1");
      }
      // And every listener port of the ALB is actually open (otherwise the site would be unreachable).
      for (const port of listenerPorts) {
        expect(openToInternet.map((r) => r.inputs.fromPort)).toContain(port);
      }
    });
  }
});

describe("the Redis password", () => {
  it("is random by default, lives in Secrets Manager, and appears nowhere else", async () => {
    const { res } = await buildEnvironment({ name: "pwd", redisReplicas: 2 });
    const password = res.one(T.password);
    expect(password.inputs.length).toBeGreaterThanOrEqual(24);
    const secret = res.one(T.secret);
    const version = res.one(T.secretVersion);
    expect(version.inputs.secretId).toBe(secret.id);
    // A Pulumi secret: encrypted in the state, masked in logs.
    expect(secretValue(version.inputs.secretString)).toBe(MOCK_PASSWORD);
    for (const r of res.all.filter((r) => r !== version && r !== password)) {
      expect(JSON.stringify(r.inputs), `${r.type} ${r.name}`).not.toContain(MOCK_PASSWORD);
    }
  });

  it("can be given, and then is stored the same way", async () => {
    const given = "given-password-0123456789";
    const { res } = await buildEnvironment({ name: "pw2", redisPassword: given });
    expect(res.ofType(T.password)).toHaveLength(0);
    expect(secretValue(res.one(T.secretVersion).inputs.secretString)).toBe(given);
    for (const r of res.all.filter((r) => r.type !== T.secretVersion)) {
      expect(JSON.stringify(r.inputs)).not.toContain(given);
    }
  });

  it("is readable by the task execution role (only that secret) and passed to every container as an ECS secret", async () => {
    const { res } = await buildEnvironment({ name: "iam", redisReplicas: 2 });
    const secretArn = res.one(T.secret).state.arn;
    const role = res.one(T.role);
    expect(JSON.parse(role.inputs.assumeRolePolicy).Statement).toEqual([
      { Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" },
    ]);
    const attachment = res.one(T.rolePolicyAttachment);
    expect(attachment.inputs.role).toBe(role.state.name);
    expect(attachment.inputs.policyArn).toBe(
      "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    );
    const policy = res.one(T.rolePolicy);
    expect(policy.inputs.role).toBe(role.id);
    expect(JSON.parse(policy.inputs.policy).Statement).toEqual([
      { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [secretArn] },
    ]);
    for (const task of res.ofType(T.taskDefinition)) {
      expect(task.inputs.executionRoleArn).toBe(role.state.arn);
      expect(task.inputs.taskRoleArn).toBeUndefined();
      for (const c of containersOf(task)) {
        expect(c.secrets).toEqual([{ name: "REDIS_PASSWORD", valueFrom: secretArn }]);
        expect(c.environment.map((e) => e.name)).not.toContain("REDIS_PASSWORD");
      }
    }
    // Deleted at once on destroy, so an environment can be recreated under its name.
    expect(res.one(T.secret).inputs.recoveryWindowInDays).toBe(0);
    // Under the path and prefix the portal's worker role is limited to (see portal-aws/worker-policy.ts).
    expect(role.inputs.path).toBe("/platform/environments/");
    expect(role.inputs.permissionsBoundary).toBeUndefined();
    expect(res.one(T.secret).inputs.namePrefix).toBe("platform/environments/iam/redis-password-");
  });

  it("puts the execution role under a permissions boundary when one is given", async () => {
    const boundary = "arn:aws:iam::123456789012:policy/platform/portal-environment-boundary";
    const { res } = await buildEnvironment({ name: "bnd", roleBoundaryArn: boundary });
    expect(res.one(T.role).inputs.permissionsBoundary).toBe(boundary);
  });
});

describe("ARNs follow the partition of the region (the region check accepts GovCloud and China)", () => {
  const cases: [string, string][] = [
    ["eu-west-1", "aws"],
    ["us-gov-west-1", "aws-us-gov"],
    ["cn-north-1", "aws-cn"],
  ];
  for (const [region, partition] of cases) {
    it(`${region}: every ARN the program writes is arn:${partition}:…`, async () => {
      const { res } = await buildEnvironment({ name: "part", redisReplicas: 2 }, { region, partition });
      expect(res.one(T.rolePolicyAttachment).inputs.policyArn).toBe(
        `arn:${partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy`,
      );
      // Also every ARN inside inputs and policy documents (written by the program or taken from resources).
      const arns = res.all.flatMap((r) => JSON.stringify(r.inputs).match(/arn:[a-z-]+:/g) ?? []);
      expect(arns.length).toBeGreaterThan(5);
      for (const arn of arns) expect(arn).toBe(`arn:${partition}:`);
    });
  }
});
