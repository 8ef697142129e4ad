// Every taggable resource carries Environment, Owner and ManagedBy. "Taggable" is read from the SDKs' own type
// definitions (a resource type is taggable when its Args interface has `tags`), so a new resource type added to the
// program is covered without touching this test.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { MANAGED_BY } from "../../src/aws";
import { buildEnvironment, type Recorded } from "./harness";

const CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";

function packageDir(pkg: string): string {
  return path.dirname(require.resolve(`${pkg}/package.json`));
}

const taggableCache = new Map<string, boolean>();

/** "aws:lb/targetGroup:TargetGroup" → does @pulumi/aws/lb/targetGroup.d.ts's TargetGroupArgs have `tags`? */
export function isTaggable(type: string): boolean {
  const cached = taggableCache.get(type);
  if (cached !== undefined) return cached;
  const [pkg, module, className] = type.split(":") as [string, string, string];
  let file: string;
  if (pkg === "aws") {
    const [mod, res] = module.split("/") as [string, string];
    file = path.join(packageDir("@pulumi/aws"), mod === "index" ? "" : mod, `${res}.d.ts`);
  } else if (pkg === "awsx") {
    file = path.join(
      packageDir("@pulumi/awsx"),
      module,
      `${className[0]?.toLowerCase()}${className.slice(1)}.d.ts`,
    );
  } else {
    taggableCache.set(type, false); // random:, pulumi:providers:, platform: — not AWS resources
    return false;
  }
  const source = fs.readFileSync(file, "utf8");
  const start = source.indexOf(`export interface ${className}Args {`);
  if (start < 0) throw new Error(`no ${className}Args in ${file}`);
  const body = source.slice(start, source.indexOf("\n}", start));
  const taggable = /\n\s+tags\?: /.test(body);
  taggableCache.set(type, taggable);
  return taggable;
}

describe("tags", () => {
  it("the taggability check reads the SDK correctly", () => {
    expect(isTaggable("aws:lb/targetGroup:TargetGroup")).toBe(true);
    expect(isTaggable("aws:ecr/lifecyclePolicy:LifecyclePolicy")).toBe(false);
    expect(isTaggable("awsx:ec2:Vpc")).toBe(true);
    expect(isTaggable("aws:ec2/natGateway:NatGateway")).toBe(true);
    expect(isTaggable("awsx:ecr:Image")).toBe(false);
  });

  it("are on every taggable resource of the cache and database options", async () => {
    const { res } = await buildEnvironment({
      name: "taggedtiers",
      owner: "bob@example.com",
      frontendReplicas: 1,
      redisReplicas: 2,
      cache: { kind: "elasticache", nodeType: "cache.t4g.micro" },
      database: { engine: "postgres", deletionProtection: true },
    });
    const taggable = res.all.filter((r: Recorded) => isTaggable(r.type));
    const types = new Set(taggable.map((r) => r.type));
    for (const t of [
      "aws:elasticache/replicationGroup:ReplicationGroup",
      "aws:elasticache/subnetGroup:SubnetGroup",
      "aws:rds/instance:Instance",
      "aws:rds/subnetGroup:SubnetGroup",
    ]) {
      expect(types, t).toContain(t);
    }
    for (const r of taggable) {
      expect(r.inputs.tags, `${r.type} ${r.name}`).toMatchObject({
        Environment: "taggedtiers",
        Owner: "bob@example.com",
        ManagedBy: MANAGED_BY,
      });
    }
  });

  it("are on every taggable resource of a full environment", async () => {
    // Everything optional switched on, so every resource type the program can create is present.
    const { res } = await buildEnvironment({
      name: "tagged",
      owner: "bob@example.com",
      frontendReplicas: 2,
      redisReplicas: 3,
      certificateArn: CERT,
      frontend: { cpu: 256, memory: 512, autoscaling: { min: 1, max: 4, targetCpu: 60 } },
      redis: { cpu: 256, memory: 512, autoscaling: { min: 1, max: 4, targetCpu: 60 } },
    });
    const taggable = res.all.filter((r: Recorded) => isTaggable(r.type));
    const types = new Set(taggable.map((r) => r.type));
    // Guard against a vacuous pass: the main resource types are all there.
    for (const t of [
      "aws:lb/loadBalancer:LoadBalancer",
      "aws:lb/targetGroup:TargetGroup",
      "aws:lb/listener:Listener",
      "aws:ecs/service:Service",
      "aws:ecs/taskDefinition:TaskDefinition",
      "aws:ecs/cluster:Cluster",
      "aws:ec2/securityGroup:SecurityGroup",
      "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
      "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
      "aws:cloudwatch/logGroup:LogGroup",
      "aws:ecr/repository:Repository",
      "aws:secretsmanager/secret:Secret",
      "aws:iam/role:Role",
      "aws:appautoscaling/target:Target",
    ]) {
      expect(types, t).toContain(t);
    }
    for (const r of taggable) {
      expect(r.inputs.tags, `${r.type} ${r.name}`).toMatchObject({
        Environment: "tagged",
        Owner: "bob@example.com",
        ManagedBy: MANAGED_BY,
      });
    }
    // ECS propagates the service's tags to its tasks.
    for (const s of res.ofType("aws:ecs/service:Service")) expect(s.inputs.propagateTags).toBe("SERVICE");
  });
});
