// Bad args fail up front, with a message that says what is wrong, and create nothing.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { VotingEnvironment, type VotingEnvironmentArgs, VotingEnvironmentArgsError } from "../../src/aws";
import { baseArgs, installMocks, settle } from "./harness";

const CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";
const NETWORK = {
  vpcId: "vpc-0123456789abcdef0",
  privateSubnetIds: ["subnet-0123456789abcdef1", "subnet-0123456789abcdef2"],
  publicSubnetIds: ["subnet-0123456789abcdef3", "subnet-0123456789abcdef4"],
};
const emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), "no-dockerfile-"));

/** Constructs with bad args; returns the error and how many resources reached the engine. */
async function attempt(overrides: Record<string, unknown>) {
  const recorder = await installMocks();
  const args = { ...baseArgs(), ...overrides } as VotingEnvironmentArgs;
  let error: unknown;
  try {
    new VotingEnvironment("invalid", args);
  } catch (e) {
    error = e;
  }
  await settle();
  return { error, registered: recorder.resources.length };
}

const cases: [string, Record<string, unknown>, string, RegExp][] = [
  ["upper-case name", { name: "Demo" }, "name", /Start with a lower-case letter/],
  ["name starting with a digit", { name: "1demo" }, "name", /Start with a lower-case letter/],
  ["name ending with a hyphen", { name: "demo-" }, "name", /Do not end with a dash/],
  ["name with an underscore", { name: "my_env" }, "name", /DNS-safe/],
  ["name with a dot", { name: "my.env" }, "name", /DNS-safe/],
  ["empty name", { name: "" }, "name", /at least 3 characters/],
  ["21-character name", { name: "a".repeat(21) }, "name", /at most 20 characters.*32/],
  ["name starting with internal", { name: "internal-tools" }, "name", /Do not start with "internal"/],
  ["name starting with sg-", { name: "sg-team" }, "name", /Do not start with "sg-" \(reserved by EC2/],
  ["missing owner", { owner: undefined }, "owner", /owner is required/],
  ["empty owner", { owner: "  " }, "owner", /owner must not be empty/],
  ["owner with forbidden characters", { owner: "alice <a@b>" }, "owner", /may contain letters, digits/],
  ["0 frontend replicas", { frontendReplicas: 0 }, "frontendReplicas", /at least 1/],
  ["21 frontend replicas", { frontendReplicas: 21 }, "frontendReplicas", /at most 20/],
  ["fractional frontend replicas", { frontendReplicas: 1.5 }, "frontendReplicas", /whole number/],
  ["frontend replicas as text", { frontendReplicas: "2" }, "frontendReplicas", /must be a number/],
  ["0 redis replicas", { redisReplicas: 0 }, "redisReplicas", /at least 1/],
  ["7 redis replicas", { redisReplicas: 7 }, "redisReplicas", /at most 6/],
  ["app folder without a Dockerfile", { appPath: emptyDir }, "appPath", /no Dockerfile at/],
  ["relative health-check path", { healthCheckPath: "readyz" }, "healthCheckPath", /absolute URL path/],
  [
    "the readiness path as the balancer's health check",
    { healthCheckPath: "/readyz" },
    "healthCheckPath",
    /must be a liveness path such as \/healthz: \/readyz fails while Redis is unreachable/,
  ],
  [
    "frontend image without a tag or digest",
    { frontendImage: "voting-app" },
    "frontendImage",
    /tag or digest/,
  ],
  ["no network", { network: undefined }, "network", /network is required: an environment creates no VPC/],
  [
    "health-check path with a query",
    { healthCheckPath: "/readyz?x=1" },
    "healthCheckPath",
    /absolute URL path/,
  ],
  ["domain name with a scheme", { domainName: "https://vote.example.com" }, "domainName", /host name/],
  ["domain name with one label", { domainName: "localhost" }, "domainName", /host name/],
  [
    "hosted zone without a domain name",
    { hostedZoneId: "Z0123456789ABCDEFGHIJ" },
    "hostedZoneId",
    /needs domainName/,
  ],
  [
    "hosted zone id of the wrong form",
    { domainName: "vote.example.com", hostedZoneId: "zone-1" },
    "hostedZoneId",
    /Route 53 hosted zone id/,
  ],
  ["app port below 1024", { appPort: 80 }, "appPort", /between 1024 and 65535/],
  ["app port on a Redis port", { appPort: 6379 }, "appPort", /must not be a Redis port/],
  [
    "certificate that is not an ACM ARN",
    { certificateArn: "my-cert" },
    "certificateArn",
    /ACM certificate ARN/,
  ],
  ["bad VPC id", { network: { ...NETWORK, vpcId: "vpc-xyz" } }, "network.vpcId", /must look like vpc-/],
  [
    "one private subnet",
    { network: { ...NETWORK, privateSubnetIds: ["subnet-0123456789abcdef1"] } },
    "network.privateSubnetIds",
    /needs at least 2 subnets/,
  ],
  [
    "a subnet both private and public",
    { network: { ...NETWORK, publicSubnetIds: [NETWORK.privateSubnetIds[0], "subnet-0123456789abcdef4"] } },
    "network.privateSubnetIds",
    /a subnet cannot be both private and public/,
  ],
  [
    "NAT gateways (a network's setting, not an environment's)",
    { natGateways: "onePerAz" },
    "(args)",
    /Unrecognized key/,
  ],
  [
    "invalid Fargate cpu",
    { frontend: { cpu: 300, memory: 512 } },
    "frontend.cpu",
    /cpu must be one of 256, 512/,
  ],
  [
    "memory not valid with cpu",
    { redis: { cpu: 256, memory: 4096 } },
    "redis.memory",
    /memory 4096 MiB is not valid with cpu 256/,
  ],
  [
    "log retention AWS does not offer",
    { logRetentionDays: 10 },
    "logRetentionDays",
    /must be one of 1, 3, 5/,
  ],
  [
    "autoscaling min above max",
    { frontend: { cpu: 256, memory: 512, autoscaling: { min: 5, max: 2 } } },
    "frontend.autoscaling.max",
    /min must not exceed autoscaling.max/,
  ],
  [
    "autoscaling max above the cap",
    { frontend: { cpu: 256, memory: 512, autoscaling: { min: 1, max: 100 } } },
    "frontend.autoscaling.max",
    /at most 50/,
  ],
  [
    "autoscaling target CPU out of range",
    { frontend: { cpu: 256, memory: 512, autoscaling: { min: 1, max: 4, targetCpu: 95 } } },
    "frontend.autoscaling.targetCpu",
    /between 10 and 90/,
  ],
  [
    "frontend replicas outside autoscaling bounds",
    { frontendReplicas: 1, frontend: { cpu: 256, memory: 512, autoscaling: { min: 2, max: 4 } } },
    "frontendReplicas",
    /must lie within frontend.autoscaling min..max \(2..4\)/,
  ],
  [
    "redis autoscaling without replicas",
    { redisReplicas: 1, redis: { cpu: 256, memory: 512, autoscaling: { min: 1, max: 3 } } },
    "redis.autoscaling",
    /needs redisReplicas > 1/,
  ],
  [
    "redis replicas outside autoscaling bounds",
    { redisReplicas: 6, redis: { cpu: 256, memory: 512, autoscaling: { min: 1, max: 3 } } },
    "redisReplicas",
    /\(5\) must lie within redis.autoscaling min..max \(1..3\)/,
  ],
  ["a single vote option", { voteOptions: ["Cats"] }, "voteOptions", /between 2 and 12 options/],
  ["repeated vote options", { voteOptions: ["Cats", "cats"] }, "voteOptions", /must not repeat/],
  [
    "vote option with a comma",
    { voteOptions: ["Cats,Dogs", "Birds"] },
    "voteOptions.0",
    /must not contain commas/,
  ],
  ["empty app title", { appTitle: " " }, "appTitle", /appTitle must not be empty/],
  ["short fixed password", { redisPassword: "short" }, "redisPassword", /at least 16 characters/],
  ["unknown option", { replicas: 3 }, "(args)", /Unrecognized key/],
];

describe("argument validation", () => {
  for (const [label, overrides, pathName, message] of cases) {
    it(`rejects ${label}`, async () => {
      const { error, registered } = await attempt(overrides);
      expect(error).toBeInstanceOf(VotingEnvironmentArgsError);
      const issues = (error as VotingEnvironmentArgsError).issues;
      const issue = issues.find((i) => i.path === pathName);
      expect(issue, JSON.stringify(issues)).toBeDefined();
      expect(issue?.message).toMatch(message);
      expect((error as Error).message).toContain(`${pathName}: ${issue?.message}`);
      // Thrown before anything was registered, the component included.
      expect(registered).toBe(0);
    });
  }

  it("reports every problem at once", async () => {
    const { error } = await attempt({ name: "Bad_Name", frontendReplicas: 0, certificateArn: "x" });
    const paths = [...new Set((error as VotingEnvironmentArgsError).issues.map((i) => i.path))].sort();
    expect(paths).toEqual(["certificateArn", "frontendReplicas", "name"]);
    expect((error as Error).message).toMatch(/^Invalid voting environment arguments:\n- /);
  });

  it("accepts the boundaries", async () => {
    for (const overrides of [
      { name: "abc", frontendReplicas: 1, redisReplicas: 1 },
      { name: "a".repeat(20), frontendReplicas: 20, redisReplicas: 6 },
      { name: "team-7-demo", certificateArn: CERT, network: NETWORK, logRetentionDays: 3653 },
    ]) {
      const { error, registered } = await attempt(overrides);
      expect(error).toBeUndefined();
      expect(registered).toBeGreaterThan(0);
    }
  });
});
