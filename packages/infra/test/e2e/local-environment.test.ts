// The local target end to end: the real Pulumi CLI, real redis-server and voting-app processes, real load
// balancers and the state in a real PostgreSQL. Scenarios run in order and build on each other.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EnvironmentOperationsWithControl, EnvironmentSpec, OperationsConfig } from "../../src/index";
import {
  alive,
  collect,
  countOf,
  environmentProcesses,
  getText,
  leftoverWorkspaces,
  pidRecords,
  portFree,
  results,
  servedBy,
  sleep,
  stopEverythingUnder,
  vote,
  votingAppMain,
} from "../helpers/environment";
import { infra } from "../helpers/infra";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres";

const DB = "platform";
let postgres: TestPostgres;
let dataDir: string;
let config: OperationsConfig;
let ops: EnvironmentOperationsWithControl;

const spec = (name: string, frontendReplicas: number, redisReplicas: number): EnvironmentSpec => ({
  name,
  target: "local",
  frontendReplicas,
  redisReplicas,
  local: { voteOptions: "Cats,Dogs", appTitle: `Env ${name}` },
});
const envDir = (name: string) => path.join(dataDir, name);

/** Rows of the stack's checkpoint in the Pulumi state table. */
async function stateRows(stack: string): Promise<{ key: string }[]> {
  return await postgres.query<{ key: string }>(DB, "SELECT key FROM pulumi_state WHERE key LIKE $1", [
    `%/.pulumi/stacks/voting-environments/${stack}.json`,
  ]);
}

/** The stack's checkpoint as the Pulumi state table holds it. */
async function checkpointOf(stack: string) {
  const rows = await postgres.query<{ data: { data: string } }>(
    DB,
    "SELECT data FROM pulumi_state WHERE key LIKE $1",
    [`%/.pulumi/stacks/voting-environments/${stack}.json`],
  );
  return JSON.parse(Buffer.from(rows[0]?.data.data ?? "", "base64").toString("utf8"));
}

/** The local processes the state holds for a stack: resource ids and pids. */
async function stateProcesses(stack: string): Promise<{ id: string; pid: number }[]> {
  const checkpoint = await checkpointOf(stack);
  return (checkpoint.checkpoint.latest.resources as { id?: string; type: string; outputs: { pid: number } }[])
    .filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/local"))
    .map((r) => ({ id: r.id as string, pid: r.outputs.pid }));
}

async function stateIds(stack: string): Promise<Set<string>> {
  return new Set((await stateProcesses(stack)).map((r) => r.id));
}

/** Every process of the environment in the process table belongs to a resource in the state, and back. */
async function expectProcessTableMatchesState(name: string): Promise<void> {
  const inTable = environmentProcesses(envDir(name)).map((p) => `${p.name} ${p.pid}`);
  const inState = (await stateProcesses(name)).map((r) => `${r.id.replace(/-\d+$/, "")} ${r.pid}`);
  expect(inTable.sort(), `processes of ${name}`).toEqual(inState.sort());
}

/** Provider plugin processes of this test's runs (by their PULUMI_HOME) still alive. */
function pluginProcesses(): number[] {
  const home = `PULUMI_HOME=${path.join(dataDir, "pulumi-home")}`;
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return (
          readFileSync(`/proc/${e}/cmdline`, "utf8").includes("dynamic-provider") &&
          readFileSync(`/proc/${e}/environ`, "utf8").split("\0").includes(home)
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

beforeAll(async () => {
  postgres = await startTestPostgres();
  dataDir = mkdtempSync(path.join(os.tmpdir(), "infra-e2e-data-"));
  config = {
    backendUrl: await postgres.backendUrl(DB),
    dataDir,
    votingAppMain: votingAppMain(),
  };
  ops = infra.createEnvironmentOperations(config);
});

afterAll(async () => {
  // Whatever a failed test left: stop every process any environment started, then the database.
  if (dataDir) {
    await stopEverythingUnder(dataDir);
    rmSync(dataDir, { recursive: true, force: true });
  }
  await ops?.close();
  await postgres?.stop();
});

describe("local target", () => {
  let frontendUrl = "";
  let writer = "";

  it("previews a new environment without creating anything", async () => {
    const { events, onEvent } = collect();
    const preview = await ops.preview(spec("alpha", 2, 2), { onEvent });
    expect(preview.kind).toBe("preview");
    expect(events).toContainEqual(
      expect.objectContaining({ type: "resource", phase: "done", name: "web", op: "create" }),
    );
    expect(events.filter((e) => e.type === "progress").at(-1)).toMatchObject({ percent: 100 });
    expect(preview.changes.create).toBeGreaterThanOrEqual(9);
    expect(preview.outputs).toEqual({});
    expect(pidRecords(envDir("alpha"))).toEqual([]);
    expect(await stateRows("alpha")).toEqual([]);

    // Nor does one cancelled before it ran.
    const cancelled = ops.preview(spec("alpha", 2, 2));
    ops.cancel({ name: "alpha", target: "local" });
    await expect(cancelled).rejects.toMatchObject({ code: "cancelled" });
    expect(await stateRows("alpha")).toEqual([]);
  });

  it("creates an environment with 2 frontends and 2 Redis whose URL serves the app and counts votes", async () => {
    const { events, onEvent } = collect();
    const result = await ops.up(spec("alpha", 2, 2), { onEvent });

    expect(result.kind).toBe("up");
    expect(result.environment).toBe("alpha");
    expect(result.durationMs).toBeGreaterThan(0);
    expect(result.changes.create).toBeGreaterThanOrEqual(7);
    frontendUrl = String(result.outputs.frontendUrl);
    writer = String(result.outputs.redisWriterEndpoint);
    expect(frontendUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // The shared part it sits in: this machine's loopback (AWS environments name their network stack here).
    expect(result.outputs.network).toBe("loopback");
    expect(result.outputs.redisReaderEndpoint).toMatch(/^127\.0\.0\.1:\d+$/);

    const page = await getText(`${frontendUrl}/`);
    expect(page.status).toBe(200);
    expect(page.body).toContain("Env alpha");
    expect(await servedBy(frontendUrl, 6)).toEqual(new Set(["frontend-0", "frontend-1"]));

    const before = countOf(await results(frontendUrl), "Cats");
    expect((await vote(frontendUrl, "Cats")).status).toBeLessThan(300);
    expect(countOf(await results(frontendUrl), "Cats")).toBe(before + 1);

    // 2 redis + 2 LBs + 2 frontends + web, all alive, all in the state.
    const records = pidRecords(envDir("alpha"));
    expect(records.map((r) => r.name).sort()).toEqual(
      ["frontend-0", "frontend-1", "redis-0", "redis-1", "redis-reader", "redis-writer", "web"].sort(),
    );
    expect(records.every(alive)).toBe(true);
    expect([...(await stateIds("alpha"))].sort()).toEqual(records.map((r) => r.id).sort());
    // The process table agrees, and every process runs in the environment's folder (not in the deleted
    // temporary workspace), so whoever cleans up a data folder finds them there.
    await expectProcessTableMatchesState("alpha");
    const table = environmentProcesses(envDir("alpha"));
    for (const p of table) expect(p.cwd.startsWith(envDir("alpha"))).toBe(true);
    // Frontends know Redis only through the load balancers' endpoints, as on AWS.
    const portOf = (name: string) => String(records.find((r) => r.name === name)?.port);
    for (const f of table.filter((p) => p.name.startsWith("frontend-"))) {
      expect(f.env).toMatchObject({
        REDIS_HOST: "127.0.0.1",
        REDIS_PORT: portOf("redis-writer"),
        REDIS_READ_HOST: "127.0.0.1",
        REDIS_READ_PORT: portOf("redis-reader"),
      });
      expect(f.env.REDIS_PORT).toBe(writer.split(":")[1]);
    }
    // Their output goes to log files in the data folder.
    for (const r of records)
      expect(existsSync(path.join(envDir("alpha"), "logs", `${r.name}.log`))).toBe(true);

    // Progress: typed resource events, a figure that never runs backwards and ends at 100%.
    const done = events.flatMap((e) => (e.type === "progress" ? [e.done] : []));
    expect(done.length).toBeGreaterThan(5);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    const progress = events.filter((e) => e.type === "progress");
    expect(progress.at(-1)).toMatchObject({ percent: 100 });
    expect(
      events.some(
        (e) => e.type === "resource" && e.phase === "done" && e.name === "web" && e.op === "create",
      ),
    ).toBe(true);
    expect(events.some((e) => e.type === "log")).toBe(true);
    expect(leftoverWorkspaces(dataDir, "alpha")).toEqual([]);
  });

  it("keeps the state in PostgreSQL", async () => {
    expect(await stateRows("alpha")).toHaveLength(1);
    const locks = await postgres.query(DB, "SELECT key FROM pulumi_state WHERE key LIKE '%/.pulumi/locks/%'");
    expect(locks).toEqual([]);
    // Secrets: the passphrase provider, with the passphrase generated into a file only its owner reads.
    const checkpoint = await checkpointOf("alpha");
    expect(checkpoint.checkpoint.latest.secrets_providers.type).toBe("passphrase");
    const redisConf = readFileSync(path.join(envDir("alpha"), "conf", "redis-0.conf"), "utf8");
    const redisPassword = redisConf.match(/^requirepass (\S+)$/m)?.[1] ?? "";
    expect(redisPassword.length).toBeGreaterThan(16);
    expect(JSON.stringify(checkpoint), "the Redis password is encrypted in the state").not.toContain(
      redisPassword,
    );
    expect(statSync(path.join(dataDir, "pulumi-passphrase")).mode & 0o777).toBe(0o600);
    // Workspaces (stack settings) live in the data folder, readable by their owner only, not in the temp folder.
    expect(statSync(path.join(dataDir, ".workspaces")).mode & 0o777).toBe(0o700);
  });

  it("previews, then scales frontends 2→4 and Redis 2→1, touching only the replicas that change", async () => {
    const before = new Map(pidRecords(envDir("alpha")).map((r) => [r.name, r]));
    const removedRedis = before.get("redis-1");
    if (!removedRedis) throw new Error("redis-1 was not running");

    // Preview first: it says what would change and changes nothing.
    const preview = await ops.preview(spec("alpha", 4, 1));
    expect(preview.changes).toMatchObject({ create: 2, delete: 1 });
    expect(preview.outputs.frontendUrl).toBe(frontendUrl);
    expect(
      pidRecords(envDir("alpha"))
        .map((r) => r.pid)
        .sort(),
    ).toEqual([...before.values()].map((r) => r.pid).sort());
    const result = await ops.up(spec("alpha", 4, 1));

    expect(result.outputs.frontendUrl).toBe(frontendUrl);
    expect(result.outputs.redisWriterEndpoint).toBe(writer);
    expect(result.changes).toMatchObject({ create: 2, delete: 1 });
    const after = new Map(pidRecords(envDir("alpha")).map((r) => [r.name, r]));
    for (const name of ["redis-0", "redis-writer", "redis-reader", "frontend-0", "frontend-1", "web"]) {
      expect(after.get(name)?.pid, name).toBe(before.get(name)?.pid);
    }
    expect(after.has("redis-1")).toBe(false);
    expect(alive(removedRedis)).toBe(false);
    expect(await portFree(removedRedis.port)).toBe(true);
    expect(await servedBy(frontendUrl, 12)).toEqual(
      new Set(["frontend-0", "frontend-1", "frontend-2", "frontend-3"]),
    );
    // The votes live on: the primary was kept.
    expect(countOf(await results(frontendUrl), "Cats")).toBeGreaterThanOrEqual(1);
  });

  it("notices a killed frontend on refresh, keeps serving, and repairs it on the next up", async () => {
    const victim = pidRecords(envDir("alpha")).find((r) => r.name === "frontend-1");
    if (!victim) throw new Error("frontend-1 was not running");
    process.kill(victim.pid, "SIGKILL");
    await sleep(200);

    const { events, onEvent } = collect();
    const refreshed = await ops.refresh({ name: "alpha", target: "local" }, { onEvent });
    expect(refreshed.changes.delete).toBe(1);
    expect(events).toContainEqual(
      expect.objectContaining({ type: "resource", phase: "done", name: "frontend-1", op: "delete" }),
    );
    // The public balancer took it out: every request still succeeds.
    const served = await servedBy(frontendUrl, 9);
    expect(served.has("frontend-1")).toBe(false);

    const repaired = await ops.up(spec("alpha", 4, 1));
    expect(repaired.changes.create).toBe(1);
    const fresh = pidRecords(envDir("alpha")).find((r) => r.name === "frontend-1" && alive(r));
    expect(fresh?.pid).not.toBe(victim.pid);
    expect(fresh?.port, "a repaired process gets its old port back").toBe(victim.port);
    expect(await servedBy(frontendUrl, 12)).toEqual(
      new Set(["frontend-0", "frontend-1", "frontend-2", "frontend-3"]),
    );
  });

  it("cancels an up through its AbortSignal, and the next up succeeds", async () => {
    const controller = new AbortController();
    const onEvent = (e: { type: string; phase?: string; name?: string }) => {
      if (e.type === "resource" && e.phase === "started" && e.name === "frontend-4") controller.abort();
    };
    const cancelled = ops.up(spec("alpha", 6, 1), { signal: controller.signal, onEvent });
    await expect(cancelled).rejects.toMatchObject({ code: "cancelled" });
    // The steps in flight finished and were recorded: no process runs that the state does not know.
    await expectProcessTableMatchesState("alpha");
    expect(leftoverWorkspaces(dataDir, "alpha")).toEqual([]);
    expect(ops.cancel({ name: "alpha", target: "local" }), "nothing left to cancel").toBe(false);

    // A cancel that comes before the CLI has started (here: during the recovery) changes nothing.
    const early = ops.up(spec("alpha", 7, 1));
    expect(ops.cancel({ name: "alpha", target: "local" })).toBe(true);
    await expect(early).rejects.toMatchObject({ code: "cancelled" });
    expect(pidRecords(envDir("alpha")).filter((r) => r.name === "frontend-6")).toEqual([]);

    const result = await ops.up(spec("alpha", 6, 1));
    expect(result.outputs.frontendUrl).toBe(frontendUrl);
    const records = pidRecords(envDir("alpha"));
    const ids = await stateIds("alpha");
    expect(records.filter((r) => r.name.startsWith("frontend-")).length).toBe(6);
    expect(records.every((r) => alive(r) && ids.has(r.id))).toBe(true);
    expect(await servedBy(frontendUrl, 12)).toContain("frontend-5");
  });

  it("recovers from a run killed with SIGKILL mid-up: the next operation clears the lock and pending operations, leaves no orphan", async () => {
    // Frontends that take 1.5 s to come up: the kill lands while their creates wait for them.
    const slowMain = path.join(dataDir, "slow-voting-app.mjs");
    writeFileSync(
      slowMain,
      `await new Promise((r) => setTimeout(r, 1500));\nawait import(${JSON.stringify(votingAppMain())});\n`,
    );
    const slowConfig = { ...config, votingAppMain: slowMain };
    const slowOps = infra.createEnvironmentOperations(slowConfig);
    const child: ChildProcess = spawn(
      process.execPath,
      [
        path.join(__dirname, "../helpers/run-operation.cjs"),
        JSON.stringify({ config: slowConfig, op: "up", spec: spec("delta", 3, 2) }),
      ],
      { detached: true, stdio: ["ignore", "ignore", "inherit"] },
    );
    try {
      // Once a frontend has been spawned (its pid file exists) its create is still waiting for it.
      const deadline = Date.now() + 90_000;
      while (!pidRecords(envDir("delta")).some((r) => r.name.startsWith("frontend-"))) {
        if (Date.now() > deadline) throw new Error("the run to kill never got going");
        await sleep(20);
      }
      // Another process runs on delta: refused, naming the lock's owner.
      await expect(slowOps.up(spec("delta", 3, 2))).rejects.toMatchObject({
        code: "concurrent-operation",
        message: expect.stringMatching(/delta: its stack is locked by \S+ \(pid \d+\)/),
      });
    } finally {
      // The whole group: the worker, the CLI and its plugins.
      process.kill(-(child.pid ?? 0), "SIGKILL");
    }
    await sleep(300);
    const spawnedByKilledRun = pidRecords(envDir("delta"));
    const inTable = environmentProcesses(envDir("delta"));
    const pluginsOfKilledRun = pluginProcesses();
    expect(pluginsOfKilledRun.length).toBeGreaterThan(0);
    expect(leftoverWorkspaces(dataDir, "delta").length).toBe(1);
    const recorded = new Set((await stateProcesses("delta")).map((r) => r.pid));
    const orphans = spawnedByKilledRun.filter((r) => !recorded.has(r.pid));
    expect(orphans.some((r) => r.name.startsWith("frontend-"))).toBe(true);
    expect(inTable.map((p) => p.pid)).toEqual(expect.arrayContaining(spawnedByKilledRun.map((r) => r.pid)));
    const locks = await postgres.query(
      DB,
      "SELECT key FROM pulumi_state WHERE key LIKE '%/.pulumi/locks/%/delta/%'",
    );
    expect(locks.length).toBe(1);
    // A run killed between spawning a frontend and writing its pid file leaves a process without one:
    // only the process table knows it.
    const unfiled = orphans.find((r) => r.name.startsWith("frontend-"));
    if (!unfiled) throw new Error("no orphaned frontend");
    rmSync(path.join(envDir("delta"), "run", `${unfiled.id}.json`));

    // The next operation, a refresh, recovers by itself and says so; then the state matches reality.
    const { events, onEvent } = collect();
    await slowOps.refresh({ name: "delta", target: "local" }, { onEvent });
    const notices = events.filter((e) => e.type === "notice").map((e) => (e as { message: string }).message);
    expect(notices.some((m) => m.includes("stale lock"))).toBe(true);
    expect(notices.some((m) => m.includes("pending operation"))).toBe(true);
    expect(notices).toContainEqual(
      expect.stringMatching(
        new RegExp(`stopped ${unfiled.name} of delta \\(pid ${unfiled.pid}\\), found in the process table`),
      ),
    );
    // No orphan: the process table holds exactly the state's processes; the orphans are gone, ports free.
    await expectProcessTableMatchesState("delta");
    for (const r of orphans) {
      expect(alive(r), `${r.name} (pid ${r.pid}) orphaned`).toBe(false);
      expect(await portFree(r.port), `${r.name}'s port ${r.port}`).toBe(true);
    }
    // Nor the killed CLI's provider plugin, nor its temporary workspace.
    const stillRunning = new Set(pluginProcesses());
    expect(pluginsOfKilledRun.filter((p) => stillRunning.has(p))).toEqual([]);
    expect(leftoverWorkspaces(dataDir, "delta")).toEqual([]);

    // And the next up completes the environment.
    const result = await slowOps.up(spec("delta", 3, 2));
    await slowOps.close();
    await expectProcessTableMatchesState("delta");
    const ids = await stateIds("delta");
    for (const r of pidRecords(envDir("delta"))) expect(ids.has(r.id), `${r.name} not in state`).toBe(true);
    expect(await servedBy(String(result.outputs.frontendUrl), 6)).toEqual(
      new Set(["frontend-0", "frontend-1", "frontend-2"]),
    );
  });

  it("runs two environments at once, isolated, and refuses a second operation on a busy environment", async () => {
    const upBeta = ops.up(spec("beta", 1, 1));
    const upGamma = ops.up(spec("gamma", 1, 2));
    await expect(ops.refresh({ name: "beta", target: "local" })).rejects.toMatchObject({
      code: "concurrent-operation",
    });
    const [beta, gamma] = await Promise.all([upBeta, upGamma]);

    const betaUrl = String(beta.outputs.frontendUrl);
    const gammaUrl = String(gamma.outputs.frontendUrl);
    expect(betaUrl).not.toBe(gammaUrl);
    expect(beta.outputs.redisWriterEndpoint).not.toBe(gamma.outputs.redisWriterEndpoint);
    const gammaBefore = countOf(await results(gammaUrl), "Dogs");
    for (let i = 0; i < 3; i++) expect((await vote(betaUrl, "Dogs")).status).toBeLessThan(300);
    expect(countOf(await results(betaUrl), "Dogs")).toBe(3);
    expect(countOf(await results(gammaUrl), "Dogs")).toBe(gammaBefore);
    const betaPorts = new Set(pidRecords(envDir("beta")).map((r) => r.port));
    expect(pidRecords(envDir("gamma")).some((r) => betaPorts.has(r.port))).toBe(false);
  });

  it("destroys: every process gone, every port free, the stack removed", async () => {
    for (const name of ["alpha", "beta", "gamma", "delta"]) {
      const records = pidRecords(envDir(name));
      expect(records.length).toBeGreaterThan(0);
      const { events, onEvent } = collect();
      const result = await ops.destroy({ name, target: "local" }, { onEvent });
      expect(result.changes.delete).toBeGreaterThanOrEqual(records.length);
      expect(environmentProcesses(envDir(name)), `processes of ${name}`).toEqual([]);
      // The CLI's hint to run `pulumi stack rm` is not shown: the stack is removed, and a notice says so.
      const lines = events.flatMap((e) => (e.type === "log" ? [e.line] : []));
      expect(lines.some((l) => l.includes("deleted"))).toBe(true);
      expect(lines.filter((l) => /stack rm|history and configuration/.test(l))).toEqual([]);
      expect(events).toContainEqual({
        type: "notice",
        message: `removed the stack ${name} (its history and configuration) from the state backend`,
      });
      expect(events.filter((e) => e.type === "progress").at(-1)).toMatchObject({ percent: 100 });
      for (const r of records) {
        expect(alive(r), `${name}/${r.name}`).toBe(false);
        expect(await portFree(r.port), `${name}/${r.name} port ${r.port}`).toBe(true);
      }
      expect(existsSync(envDir(name))).toBe(false);
      expect(await stateRows(name)).toEqual([]);
      expect(leftoverWorkspaces(dataDir, name)).toEqual([]);
    }
    await expect(ops.refresh({ name: "alpha", target: "local" })).rejects.toMatchObject({
      code: "stack-not-found",
    });
    // Destroying what is gone finishes as destroyed (a destroy killed after it removed the stack is retried).
    await expect(ops.destroy({ name: "alpha", target: "local" })).resolves.toMatchObject({ changes: {} });
  });
});
