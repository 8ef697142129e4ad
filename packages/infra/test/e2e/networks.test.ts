// Networks are stacks too: the same engine, backend and errors as environments. With the real Pulumi CLI and
// a real PostgreSQL state backend: an AWS environment is refused before any run while its network is missing
// or unfinished, and a network is not destroyed while an environment's state references it. (The AWS programs
// themselves cannot run here, without AWS provider plugins: the stacks below are built with small programs
// that record exactly what the real ones record — outputs, and a StackReference to the network.)

import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EnvironmentSpec, OperationEvent, OperationsConfig } from "../../src/index";
import { votingAppMain } from "../helpers/environment";
import { infra } from "../helpers/infra";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres";

const load = createRequire(__filename);
const runnerModule: typeof import("../../src/operations/stack-runner") = load(
  "../../dist/operations/stack-runner.js",
);
// The same @pulumi/pulumi instance as the compiled operations (the inline programs run in this process).
const pulumi: typeof import("@pulumi/pulumi") = load("@pulumi/pulumi");

let postgres: TestPostgres;
let tmp: string;
let config: OperationsConfig;
let platform: ReturnType<typeof infra.createPlatformOperations>;
let runner: ReturnType<typeof runnerModule.createStackRunner>;

const NETWORK_OUTPUTS = {
  vpcId: "vpc-0a1b2c3d4e5f60718",
  privateSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
  publicSubnetIds: ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"],
  availabilityZones: ["eu-west-1a", "eu-west-1b"],
  region: "eu-west-1",
  accountId: "123456789012",
  adopted: false,
  natGatewayCount: 1,
};

const awsSpec = (name: string, network?: string): EnvironmentSpec => ({
  name,
  target: "aws",
  frontendReplicas: 1,
  redisReplicas: 1,
  aws: { region: "eu-west-1", ...(network ? { network } : {}) },
});

/** Runs `program` as an `up` of the stack through the shared engine (what the real programs' runs do). */
async function upStack(project: string, stack: string, program: () => Promise<Record<string, unknown>>) {
  await runner.operate(
    { project, stack, subject: project === infra.NETWORK_PROJECT ? "network" : "environment" },
    "up",
    undefined,
    (ctx) => ctx.runOnStack(program, { create: true }, (s, streaming) => s.up(streaming)),
  );
}

/** Stack names of a project, read from the state table itself (which the first Pulumi run creates). */
const stacksOf = async (project: string) => {
  const [{ t }] = (await postgres.query<{ t: string | null }>(
    "networks",
    "SELECT to_regclass('pulumi_state')::text AS t",
  )) as [{ t: string | null }];
  if (!t) return [];
  return (
    await postgres.query<{ key: string }>(
      "networks",
      "SELECT key FROM pulumi_state WHERE key LIKE $1 AND key NOT LIKE '%.bak'",
      [`%/.pulumi/stacks/${project}/%`],
    )
  ).map((r) => path.basename(r.key).replace(/\.json(\.gz)?$/, ""));
};

beforeAll(async () => {
  postgres = await startTestPostgres();
  tmp = mkdtempSync(path.join(os.tmpdir(), "infra-networks-"));
  config = {
    backendUrl: await postgres.backendUrl("networks"),
    dataDir: path.join(tmp, "data"),
    votingAppMain: votingAppMain(),
  };
  platform = infra.createPlatformOperations(config);
  runner = runnerModule.createStackRunner(config);
});
afterAll(async () => {
  await platform?.close();
  await runner?.close();
  await postgres?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe("networks as stacks", () => {
  it("refuses an AWS environment whose network does not exist, before any Pulumi run", async () => {
    await expect(platform.environments.up(awsSpec("team-a"))).rejects.toMatchObject({
      code: "network-not-ready",
      message:
        "network aws-eu-west-1 does not exist: create the network of eu-west-1 before its first environment",
    });
    await expect(platform.environments.preview(awsSpec("team-a", "shared-eu"))).rejects.toMatchObject({
      code: "network-not-ready",
      message: expect.stringContaining("network shared-eu does not exist"),
    });
    expect(await stacksOf(infra.ENVIRONMENT_PROJECT)).toEqual([]);
  });

  it("refuses it too while the network has no outputs (its create never succeeded)", async () => {
    await upStack(infra.NETWORK_PROJECT, "aws-eu-west-1", async () => ({}));
    await expect(platform.environments.up(awsSpec("team-a"))).rejects.toMatchObject({
      code: "network-not-ready",
      message: expect.stringContaining("network aws-eu-west-1 has no outputs yet"),
    });
    expect(await stacksOf(infra.ENVIRONMENT_PROJECT)).toEqual([]);
  });

  it("validates a network spec before any run: an adopted VPC with one private subnet", async () => {
    await expect(
      platform.networks.up({
        name: "adopted-eu",
        region: "eu-west-1",
        existing: {
          vpcId: "vpc-0123456789abcdef0",
          privateSubnetIds: ["subnet-0123456789abcdef1"],
          publicSubnetIds: ["subnet-0123456789abcdef3", "subnet-0123456789abcdef4"],
        },
      }),
    ).rejects.toMatchObject({
      code: "invalid-input",
      message: expect.stringContaining(
        "existing.privateSubnetIds: privateSubnetIds needs at least 2 subnets, in two availability zones",
      ),
    });
    expect(await stacksOf(infra.NETWORK_PROJECT)).toEqual(["aws-eu-west-1"]);
  });

  it("refuses to destroy a network while an environment references it, changing nothing", async () => {
    await upStack(infra.NETWORK_PROJECT, "aws-eu-west-1", async () => NETWORK_OUTPUTS);
    // What an AWS environment's state holds: a StackReference to its network (see network-reference.ts).
    await upStack(infra.ENVIRONMENT_PROJECT, "team-a", async () => {
      const ref = new pulumi.StackReference("network-aws-eu-west-1", {
        name: infra.networkStackReferenceName("aws-eu-west-1"),
      });
      return { vpcId: ref.requireOutput("vpcId") };
    });
    expect(await platform.networks.usedBy({ name: "aws-eu-west-1" })).toEqual(["team-a"]);

    const events: OperationEvent[] = [];
    await expect(
      platform.networks.destroy({ name: "aws-eu-west-1" }, { onEvent: (e) => events.push(e) }),
    ).rejects.toMatchObject({
      code: "in-use",
      message:
        "network aws-eu-west-1 is used by 1 environment (team-a): destroy them first; nothing was changed",
    });
    // Nothing ran: no CLI output, the network's stack and its outputs are intact.
    expect(events.filter((e) => e.type === "log" || e.type === "resource")).toEqual([]);
    expect(await stacksOf(infra.NETWORK_PROJECT)).toEqual(["aws-eu-west-1"]);
    const refreshed = await platform.networks.refresh({ name: "aws-eu-west-1" });
    expect(refreshed.outputs).toMatchObject({ vpcId: NETWORK_OUTPUTS.vpcId, region: "eu-west-1" });
  });

  it("destroys it once no environment uses it, and then it is gone", async () => {
    await platform.environments.destroy({ name: "team-a", target: "aws" });
    expect(await platform.networks.usedBy({ name: "aws-eu-west-1" })).toEqual([]);
    const events: OperationEvent[] = [];
    const result = await platform.networks.destroy(
      { name: "aws-eu-west-1" },
      { onEvent: (e) => events.push(e) },
    );
    expect(result).toMatchObject({ kind: "destroy", network: "aws-eu-west-1", outputs: {} });
    expect(events).toContainEqual({
      type: "notice",
      message:
        "removed the stack of network aws-eu-west-1 (its history and configuration) from the state backend",
    });
    expect(await stacksOf(infra.NETWORK_PROJECT)).toEqual([]);
    await expect(platform.networks.refresh({ name: "aws-eu-west-1" })).rejects.toMatchObject({
      code: "stack-not-found",
      message: "network aws-eu-west-1 does not exist (no stack named aws-eu-west-1)",
    });
  });

  it("destroying it again (a destroy stopped after the stack was removed, retried) succeeds, saying so", async () => {
    const events: OperationEvent[] = [];
    const result = await platform.networks.destroy(
      { name: "aws-eu-west-1" },
      { onEvent: (e) => events.push(e) },
    );
    expect(result).toMatchObject({ kind: "destroy", network: "aws-eu-west-1", outputs: {}, changes: {} });
    expect(events).toContainEqual({
      type: "notice",
      message:
        "the stack of network aws-eu-west-1 does not exist (already removed, or never created): nothing left to destroy",
    });
  });

  it("keeps networks and environments apart: the same name in both projects runs at once", async () => {
    await Promise.all([
      upStack(infra.NETWORK_PROJECT, "same-name", async () => ({ which: "network" })),
      upStack(infra.ENVIRONMENT_PROJECT, "same-name", async () => ({ which: "environment" })),
    ]);
    expect(await stacksOf(infra.NETWORK_PROJECT)).toEqual(["same-name"]);
    expect(await stacksOf(infra.ENVIRONMENT_PROJECT)).toEqual(["same-name"]);
    await platform.networks.destroy({ name: "same-name" });
    await platform.environments.destroy({ name: "same-name", target: "aws" });
  });
});
