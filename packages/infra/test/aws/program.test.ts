// awsEnvironmentProgram: EnvironmentSpec in, an inline program whose outputs use EnvironmentOutputs' keys.
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { awsEnvironmentProgram, UNKNOWN_OWNER, VotingEnvironmentArgsError } from "../../src/aws";
import { ownerTagValue } from "../../src/aws/program";
import type { EnvironmentOutputs, EnvironmentSpec } from "../../src/operations/types";
import {
  appDir,
  installMocks,
  NETWORK,
  NETWORK_OUTPUTS,
  promiseOf,
  Resources,
  settle,
  T,
  WITH_NETWORK,
} from "./harness";

const CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";

function spec(overrides: Partial<EnvironmentSpec> = {}): EnvironmentSpec {
  return {
    name: "prog",
    target: "aws",
    frontendReplicas: 2,
    redisReplicas: 2,
    owner: "carol@example.com",
    aws: { region: "eu-west-1" },
    ...overrides,
  };
}

async function run(s: EnvironmentSpec) {
  const recorder = await installMocks(WITH_NETWORK);
  const program = awsEnvironmentProgram(s, { appPath: appDir });
  const outputs = await program();
  const resolved = await promiseOf(pulumi.output(outputs));
  await settle();
  return { outputs: resolved, res: new Resources(recorder.resources) };
}

describe("awsEnvironmentProgram", () => {
  it("returns the EnvironmentOutputs keys plus cluster, services, image and log groups", async () => {
    const { outputs, res } = await run(spec());
    const contract: EnvironmentOutputs = outputs as EnvironmentOutputs;
    const nlb = res.one(T.lb, (l) => l.inputs.loadBalancerType === "network");
    const alb = res.one(T.lb, (l) => l.inputs.loadBalancerType === "application");
    expect(contract.frontendUrl).toBe(`http://${alb.state.dnsName}`);
    expect(contract.redisWriterEndpoint).toBe(`${nlb.state.dnsName}:6379`);
    expect(contract.redisReaderEndpoint).toBe(`${nlb.state.dnsName}:6380`);
    expect(Object.keys(outputs).sort()).toEqual(
      [
        "clusterName",
        "databaseEndpoint",
        "frontendUrl",
        "imageUri",
        "logGroupNames",
        "network",
        "redisReaderEndpoint",
        "redisWriterEndpoint",
        "region",
        "serviceNames",
        "vpcId",
      ].sort(),
    );
    expect(outputs.region).toBe("eu-west-1");
    expect(outputs.network).toBe("aws-eu-west-1");
    expect(outputs.vpcId).toBe(NETWORK.vpcId);
    expect(
      res
        .ofType(T.service)
        .map((s) => s.inputs.desiredCount)
        .sort(),
    ).toEqual([1, 1, 2]);
  });

  it("deploys through an explicit provider for the spec's region, with default tags", async () => {
    const recorder = await installMocks({
      region: "us-east-2",
      stacks: { "organization/platform-networks/aws-us-east-2": { ...NETWORK_OUTPUTS, region: "us-east-2" } },
    });
    await awsEnvironmentProgram(spec({ aws: { region: "us-east-2" } }), { appPath: appDir })();
    await settle();
    const provider = recorder.resources.find((r) => r.type === "pulumi:providers:aws");
    expect(provider?.inputs.region).toBe("us-east-2");
    expect(JSON.parse(provider?.inputs.defaultTags).tags).toEqual({
      Environment: "prog",
      Owner: "carol@example.com",
      ManagedBy: "platform-portal",
    });
    // Every AWS resource is created with that provider. (The awsx components inherit it through the component's
    // `providers` map, which the mocks do not report for remote components.)
    const awsResources = recorder.resources.filter((r) => r.type.startsWith("aws:"));
    expect(awsResources.length).toBeGreaterThan(30);
    for (const r of awsResources)
      expect(r.provider, `${r.type} ${r.name}`).toMatch(/pulumi:providers:aws::aws::/);
    // Data sources too (the caller identity checked against the network's account, the partition).
    expect(recorder.calls.map((c) => c.token)).toContain("aws:index/getCallerIdentity:getCallerIdentity");
  });

  it("without replicas the reader endpoint is absent; a missing owner is tagged as unknown", async () => {
    const { outputs, res } = await run(spec({ redisReplicas: 1, owner: undefined }));
    expect(outputs.redisReaderEndpoint).toBeUndefined();
    expect(res.one(T.cluster).inputs.tags.Owner).toBe(UNKNOWN_OWNER);
  });

  it("turns any owner into a valid tag value", () => {
    expect(ownerTagValue("Seán O'Brien <sob@example.com>")).toBe("Seán O-Brien -sob@example.com-");
    expect(ownerTagValue("carol@example.com")).toBe("carol@example.com");
    expect(ownerTagValue("  ")).toBe(UNKNOWN_OWNER);
    expect(ownerTagValue("x".repeat(300))).toHaveLength(256);
  });

  it("passes the certificate through: HTTPS URL", async () => {
    const { outputs } = await run(spec({ aws: { region: "eu-west-1", certificateArn: CERT } }));
    expect(outputs.frontendUrl).toMatch(/^https:\/\//);
  });

  const bad: [string, Partial<EnvironmentSpec>, RegExp][] = [
    ["the local target", { target: "local" }, /target must be "aws"/],
    ["no aws options", { aws: undefined }, /aws options \(region\) are required/],
    ["an invalid region", { aws: { region: "Europe" } }, /aws.region must be an AWS region/],
    [
      "a certificate from another region",
      { aws: { region: "us-east-1", certificateArn: CERT } },
      /certificateArn must be in the environment's region us-east-1/,
    ],
    [
      "an invalid environment name",
      { name: "Prod!" },
      /name: Use only lower-case letters, digits and dashes \(DNS-safe\)/,
    ],
    ["too many replicas", { redisReplicas: 9 }, /redisReplicas: redisReplicas must be at most 6/],
  ];
  for (const [label, overrides, message] of bad) {
    it(`rejects ${label} before any Pulumi run`, async () => {
      const recorder = await installMocks();
      expect(() => awsEnvironmentProgram(spec(overrides), { appPath: appDir })).toThrow(
        VotingEnvironmentArgsError,
      );
      expect(() => awsEnvironmentProgram(spec(overrides), { appPath: appDir })).toThrow(message);
      await settle();
      expect(recorder.resources).toHaveLength(0);
    });
  }
});
