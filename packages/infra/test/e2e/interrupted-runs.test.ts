// What a killed run leaves behind, with the real CLI and PostgreSQL state:
// - a destroy killed after it removed the stack (before its result was recorded): destroying again finishes
//   as destroyed, and sweeps what the killed run left (its folder, a process the state never knew);
// - pending creates of a cloud (aws) environment: never dropped from the state silently; the operation
//   stops and names them until someone clears them (a constructed checkpoint: no AWS here). The local
//   target keeps clearing them and reaping the orphans.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EnvironmentOperationsWithControl, OperationsConfig } from "../../src/index";
import { collect, environmentProcesses, stopEverythingUnder, votingAppMain } from "../helpers/environment";
import { infra } from "../helpers/infra";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres";

const load = createRequire(__filename);
const automation: typeof import("@pulumi/pulumi/automation") = load("@pulumi/pulumi/automation");

const DB = "interrupted";
const PASSPHRASE = "interrupted-runs-test-passphrase";
let postgres: TestPostgres;
let tmp: string;
let base: OperationsConfig;
let ops: EnvironmentOperationsWithControl;
const started: ChildProcess[] = [];

beforeAll(async () => {
  postgres = await startTestPostgres();
  tmp = mkdtempSync(path.join(os.tmpdir(), "infra-interrupted-"));
  base = {
    backendUrl: await postgres.backendUrl(DB),
    dataDir: path.join(tmp, "data"),
    passphrase: PASSPHRASE,
    votingAppMain: votingAppMain(),
  };
  ops = infra.createEnvironmentOperations(base);
});
afterAll(async () => {
  for (const c of started) if (c.exitCode === null) c.kill("SIGKILL");
  await ops?.close();
  if (tmp) await stopEverythingUnder(path.join(tmp, "data"));
  await postgres?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const stackKey = (stack: string) => `%/.pulumi/stacks/voting-environments/${stack}.json`;

interface Checkpoint {
  checkpoint: {
    latest: {
      resources: Record<string, unknown>[];
      pending_operations?: { resource: Record<string, unknown>; type: string }[];
    };
  };
}

async function readCheckpoint(stack: string): Promise<Checkpoint> {
  const [row] = await postgres.query<{ data: { data: string } }>(
    DB,
    "SELECT data FROM pulumi_state WHERE key LIKE $1",
    [stackKey(stack)],
  );
  if (!row) throw new Error(`no stack ${stack}`);
  return JSON.parse(Buffer.from(row.data.data, "base64").toString("utf8"));
}

async function writeCheckpoint(stack: string, checkpoint: Checkpoint): Promise<void> {
  const data = { data: Buffer.from(JSON.stringify(checkpoint)).toString("base64") };
  await postgres.query(DB, "UPDATE pulumi_state SET data = $2 WHERE key LIKE $1", [stackKey(stack), data]);
}

/** A real (empty) stack of the project, made by the CLI: the base for a constructed checkpoint. */
async function emptyStack(stack: string): Promise<void> {
  const workDir = mkdtempSync(path.join(tmp, "ws-"));
  const pulumiHome = path.join(tmp, "pulumi-home");
  mkdirSync(pulumiHome, { recursive: true });
  const s = await automation.LocalWorkspace.createOrSelectStack(
    { stackName: stack, projectName: infra.PROJECT_NAME, program: async () => ({}) },
    {
      workDir,
      pulumiCommand: await infra.resolvePulumiCommand(),
      envVars: {
        PULUMI_BACKEND_URL: base.backendUrl,
        PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
        PULUMI_HOME: pulumiHome,
        PULUMI_SKIP_UPDATE_CHECK: "true",
      },
      projectSettings: { name: infra.PROJECT_NAME, runtime: "nodejs", backend: { url: base.backendUrl } },
    },
  );
  await s.up();
  rmSync(workDir, { recursive: true, force: true });
}

/**
 * The checkpoint of a cloud environment a run was killed in: an aws provider, an ECR repository it
 * created, and, pending, an ECS service it was creating and the repository it was updating.
 */
async function injectAwsPending(stack: string): Promise<{ serviceUrn: string; repositoryUrn: string }> {
  const cp = await readCheckpoint(stack);
  const root = cp.checkpoint.latest.resources[0] as { urn: string };
  const prefix = `urn:pulumi:${stack}::${infra.PROJECT_NAME}::`;
  const providerUrn = `${prefix}pulumi:providers:aws::default_7_0_0`;
  const provider = `${providerUrn}::7a4e4d62-0000-4000-8000-000000000001`;
  const repositoryUrn = `${prefix}aws:ecr/repository:Repository::${stack}-web`;
  const serviceUrn = `${prefix}aws:ecs/service:Service::${stack}-frontend`;
  const repository = {
    urn: repositoryUrn,
    custom: true,
    id: `${stack}-web`,
    type: "aws:ecr/repository:Repository",
    inputs: { name: `${stack}-web` },
    outputs: { name: `${stack}-web`, arn: `arn:aws:ecr:eu-west-1:123456789012:repository/${stack}-web` },
    parent: root.urn,
    provider,
  };
  cp.checkpoint.latest.resources.push(
    {
      urn: providerUrn,
      custom: true,
      id: "7a4e4d62-0000-4000-8000-000000000001",
      type: "pulumi:providers:aws",
      inputs: { region: "eu-west-1" },
      outputs: { region: "eu-west-1" },
      parent: root.urn,
    },
    repository,
  );
  cp.checkpoint.latest.pending_operations = [
    {
      type: "creating",
      resource: {
        urn: serviceUrn,
        custom: true,
        type: "aws:ecs/service:Service",
        inputs: { name: `${stack}-frontend` },
        parent: root.urn,
        provider,
      },
    },
    { type: "updating", resource: repository },
  ];
  await writeCheckpoint(stack, cp);
  return { serviceUrn, repositoryUrn };
}

describe("a destroy killed after it removed the stack", () => {
  it("destroying again finishes as destroyed and sweeps what the killed run left", async () => {
    const name = "removed";
    const envDir = path.join(base.dataDir, name);
    await ops.up({ name, target: "local", frontendReplicas: 1, redisReplicas: 1 });
    await ops.destroy({ name, target: "local" });
    // What a run killed right after `pulumi destroy --remove` leaves: the environment's folder, and a
    // process of it the state never knew (its pid file lost), still running.
    mkdirSync(path.join(envDir, "logs"), { recursive: true });
    const leftover = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], {
      cwd: envDir,
      detached: true,
      stdio: "ignore",
      env: { ...process.env, PLATFORM_ENVIRONMENT_DIR: envDir, PLATFORM_PROCESS_NAME: "frontend-0" },
    });
    started.push(leftover);
    await new Promise((r) => setTimeout(r, 300));
    expect(environmentProcesses(envDir).map((p) => p.pid)).toEqual([leftover.pid]);

    const { events, onEvent } = collect();
    const again = await ops.destroy({ name, target: "local" }, { onEvent });
    expect(again).toMatchObject({ kind: "destroy", environment: name, outputs: {}, changes: {} });
    const notices = events.flatMap((e) => (e.type === "notice" ? [e.message] : []));
    expect(notices).toContain(
      `the stack ${name} does not exist (already removed, or never created): nothing left to destroy`,
    );
    expect(notices.some((n) => n.includes(`stopped frontend-0 of ${name} (pid ${leftover.pid})`))).toBe(true);
    expect(events.filter((e) => e.type === "progress").at(-1)).toMatchObject({ percent: 100 });
    expect(environmentProcesses(envDir)).toEqual([]);
    expect(
      await postgres.query(DB, "SELECT key FROM pulumi_state WHERE key LIKE $1", [stackKey(name)]),
    ).toEqual([]);
    // A refresh of it is still an error: there is nothing to refresh.
    await expect(ops.refresh({ name, target: "local" })).rejects.toMatchObject({ code: "stack-not-found" });
    // The same for an aws environment whose stack is gone (no provider plugin is needed for that).
    await expect(ops.destroy({ name: "cloud-gone", target: "aws" })).resolves.toMatchObject({ changes: {} });
  }, 120_000);
});

describe("pending creates left by a killed run", () => {
  it("aws: stops and names them instead of dropping them; clears them only when told", async () => {
    const stack = "cloudy";
    await emptyStack(stack);
    const { serviceUrn, repositoryUrn } = await injectAwsPending(stack);

    const { events, onEvent } = collect();
    const refused = ops.refresh({ name: stack, target: "aws" }, { onEvent });
    await expect(refused).rejects.toMatchObject({ code: "pending-creates" });
    const message = await refused.catch((e: Error) => e.message);
    expect(message).toContain(serviceUrn);
    expect(message).toContain(`Service ${stack}-frontend`);
    expect(message).toContain(`--import-pending-creates`);
    expect(message).toContain("Nothing was changed");
    expect(events.some((e) => e.type === "notice" && e.message.includes(`${stack}-frontend`))).toBe(true);
    await expect(ops.recover({ name: stack, target: "aws" })).rejects.toMatchObject({
      code: "pending-creates",
    });
    // Nothing was dropped: both pending operations are still in the state.
    const kept = await readCheckpoint(stack);
    expect(kept.checkpoint.latest.pending_operations?.map((p) => [p.type, p.resource.urn])).toEqual([
      ["creating", serviceUrn],
      ["updating", repositoryUrn],
    ]);

    // Someone checked the account: the service does not exist. Now recovery clears them.
    await ops.recover({ name: stack, target: "aws" }, { clearPendingCreates: true });
    const cleared = await readCheckpoint(stack);
    expect(cleared.checkpoint.latest.pending_operations ?? []).toEqual([]);
    expect(cleared.checkpoint.latest.resources.map((r) => r.urn)).toContain(repositoryUrn);
  }, 120_000);

  it("local: clears them, as the orphan reaper stops whatever they started", async () => {
    const stack = "grounded";
    await emptyStack(stack);
    await injectAwsPending(stack); // the same checkpoint, run as a local environment
    await ops.recover({ name: stack, target: "local" });
    const cleared = await readCheckpoint(stack);
    expect(cleared.checkpoint.latest.pending_operations ?? []).toEqual([]);
  }, 120_000);
});
