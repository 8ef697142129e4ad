// The local target end to end: the real Pulumi CLI, real redis-server and voting-app processes, real load
// balancers and the state in a real PostgreSQL. Scenarios run in order and build on each other.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
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
  parentPid,
  portFree,
  results,
  servedBy,
  serviceNamed,
  services,
  sleep,
  stopEverythingUnder,
  vote,
  votingAppMain,
  waitFor,
} from "../helpers/environment";
import { infra, processControl } from "../helpers/infra";
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

/** The local target's resources in the state: each one's name, and the supervisor's pid. */
async function stateResources(stack: string): Promise<{ name: string; type: string; pid?: number }[]> {
  const checkpoint = await checkpointOf(stack);
  return (
    checkpoint.checkpoint.latest.resources as { type: string; outputs: { name: string; pid?: number } }[]
  )
    .filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/local"))
    .map((r) => ({ name: r.outputs.name, type: r.type.split(":").pop() ?? "", pid: r.outputs.pid }));
}

/** Names of the services (not the supervisor) in the state. */
async function stateServices(stack: string): Promise<string[]> {
  return (await stateResources(stack))
    .filter((r) => r.type !== "Supervisor")
    .map((r) => r.name)
    .sort();
}

/**
 * Reality matches the state: the supervisor in the state runs, it runs exactly the services in the state
 * (each RUNNING), and every process of the environment in the process table is that supervisor or runs
 * under it (its event listener, a service or a service's child such as HAProxy's worker).
 */
async function expectProcessTableMatchesState(name: string): Promise<void> {
  const resources = await stateResources(name);
  const supervisorPid = resources.find((r) => r.type === "Supervisor")?.pid ?? -1;
  // A service just created serves already, but supervisord says RUNNING only after it has run for a second.
  const settled = () => services(envDir(name)).every((s) => s.state === "RUNNING");
  await waitFor("every service RUNNING", settled, 5000).catch(() => {});
  const running = services(envDir(name));
  expect(running.map((s) => `${s.name} ${s.state}`).sort(), `services of ${name}`).toEqual(
    (await stateServices(name)).map((n) => `${n} RUNNING`),
  );
  const underSupervisor = (pid: number) => {
    for (let p = parentPid(pid); p > 1; p = parentPid(p)) if (p === supervisorPid) return true;
    return false;
  };
  const strays = environmentProcesses(envDir(name)).filter(
    (p) => p.pid !== supervisorPid && !underSupervisor(p.pid),
  );
  expect(
    strays.map((p) => `${p.name} ${p.pid}`),
    `processes of ${name} outside its supervisor`,
  ).toEqual([]);
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

/** Votes and reads through the public URL, one after another each, until stopped; records every answer. */
function traffic(url: string) {
  const log = {
    votes: [] as { status: number; ms: number; at: number; error?: string }[],
    reads: [] as { status: number; ms: number; at: number; error?: string }[],
  };
  let running = true;
  const loop = async (request: () => Promise<Response>, into: (typeof log)["votes"]) => {
    while (running) {
      const at = Date.now();
      let status = 0;
      let error: string | undefined;
      try {
        const res = await request();
        await res.arrayBuffer();
        status = res.status;
      } catch (err) {
        // No answer at all: say why, should it ever happen.
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        error = `${(err as Error).message}: ${cause?.code ?? ""} ${cause?.message ?? ""}`;
      }
      into.push({ status, ms: Date.now() - at, at, ...(error ? { error } : {}) });
      await sleep(20);
    }
  };
  const done = Promise.all([
    loop(() => vote(url, "Dogs"), log.votes),
    loop(() => fetch(`${url}/api/results`, { signal: AbortSignal.timeout(5000) }), log.reads),
  ]);
  return {
    log,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

const supervisorctl = (name: string, ...args: string[]) =>
  spawnSync("supervisorctl", ["-c", path.join(envDir(name), "supervisor", "supervisord.conf"), ...args], {
    encoding: "utf8",
  }).stdout;

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
    expect(preview.changes.create).toBeGreaterThanOrEqual(10);
    expect(preview.outputs).toEqual({});
    expect(environmentProcesses(envDir("alpha"))).toEqual([]);
    expect(await stateRows("alpha")).toEqual([]);

    // Nor does one cancelled before it ran.
    const cancelled = ops.preview(spec("alpha", 2, 2));
    ops.cancel({ name: "alpha", target: "local" });
    await expect(cancelled).rejects.toMatchObject({ code: "cancelled" });
    expect(await stateRows("alpha")).toEqual([]);
  });

  it("creates an environment with 2 frontends and 2 Redis, all under one supervisor, whose URL serves the app and counts votes", async () => {
    const { events, onEvent } = collect();
    const result = await ops.up(spec("alpha", 2, 2), { onEvent });

    expect(result.kind).toBe("up");
    expect(result.environment).toBe("alpha");
    expect(result.durationMs).toBeGreaterThan(0);
    expect(result.changes.create).toBeGreaterThanOrEqual(8);
    frontendUrl = String(result.outputs.frontendUrl);
    writer = String(result.outputs.redisWriterEndpoint);
    expect(frontendUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // The shared part it sits in: this machine's loopback (AWS environments name their network stack here).
    expect(result.outputs.network).toBe("loopback");
    expect(result.outputs.redisReaderEndpoint).toMatch(/^127\.0\.0\.1:\d+$/);
    // A clean run says nothing alarming in its log (an output left undefined made Pulumi warn in every one).
    expect(
      events.filter((e) => e.type === "diagnostic" && (e.severity === "warning" || e.severity === "error")),
    ).toEqual([]);

    const page = await getText(`${frontendUrl}/`);
    expect(page.status).toBe(200);
    expect(page.body).toContain("Env alpha");
    expect(await servedBy(frontendUrl, 6)).toEqual(new Set(["frontend-0", "frontend-1"]));

    const before = countOf(await results(frontendUrl), "Cats");
    expect((await vote(frontendUrl, "Cats")).status).toBeLessThan(300);
    await waitFor(
      "the vote read back",
      async () => countOf(await results(frontendUrl), "Cats") === before + 1,
    );

    // 2 redis + 2 balancers + 2 frontends + web, each a RUNNING program of the environment's supervisord,
    // each in the state; and nothing of the environment runs outside that supervisor.
    const running = services(envDir("alpha"));
    expect(running.map((r) => r.name).sort()).toEqual(
      ["frontend-0", "frontend-1", "redis-0", "redis-1", "redis-reader", "redis-writer", "web"].sort(),
    );
    expect(running.every((r) => r.state === "RUNNING" && alive(r))).toBe(true);
    expect(await stateServices("alpha")).toEqual(running.map((r) => r.name).sort());
    await expectProcessTableMatchesState("alpha");
    // The balancers are HAProxy; the supervisor is supervisord.
    const table = environmentProcesses(envDir("alpha"));
    const commandOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, "utf8");
    expect(commandOf(serviceNamed(envDir("alpha"), "web")?.pid ?? 0)).toContain("haproxy");
    expect(
      commandOf((await stateResources("alpha")).find((r) => r.name === "supervisor")?.pid ?? 0),
    ).toContain("supervisord");
    // Every process runs in the environment's folder (not in the deleted temporary workspace), so whoever
    // cleans up a data folder finds them there.
    for (const p of table) expect(p.cwd.startsWith(envDir("alpha"))).toBe(true);
    // Frontends know Redis only through the load balancers' endpoints, as on AWS.
    const portOf = (name: string) => String(running.find((r) => r.name === name)?.port);
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
    for (const r of running)
      expect(existsSync(path.join(envDir("alpha"), "logs", `${r.name}.log`))).toBe(true);

    // Progress: typed resource events, a figure that never runs backwards and ends at 100%.
    const done = events.flatMap((e) => (e.type === "progress" ? [e.done] : []));
    expect(done.length).toBeGreaterThan(5);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(events.filter((e) => e.type === "progress").at(-1)).toMatchObject({ percent: 100 });
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
    // The files that hold it are the owner's only.
    for (const file of ["conf/redis-0.conf", "conf/redis-writer.haproxy.cfg", "conf/frontend-0.sh"]) {
      expect(statSync(path.join(envDir("alpha"), file)).mode & 0o077, file).toBe(0);
    }
    expect(statSync(path.join(dataDir, "pulumi-passphrase")).mode & 0o777).toBe(0o600);
    // Workspaces (stack settings) live in the data folder, readable by their owner only, not in the temp folder.
    expect(statSync(path.join(dataDir, ".workspaces")).mode & 0o777).toBe(0o700);
  });

  it("replaces a SIGKILLed frontend by itself within seconds, on its port, while the balancer keeps serving", async () => {
    const victim = serviceNamed(envDir("alpha"), "frontend-1");
    if (!victim) throw new Error("frontend-1 is not running");
    const load = traffic(frontendUrl);
    await sleep(300);
    const killedAt = Date.now();
    process.kill(victim.pid, "SIGKILL");
    const fresh = await waitFor(
      "frontend-1 running again",
      () => {
        const s = serviceNamed(envDir("alpha"), "frontend-1");
        return s?.state === "RUNNING" && s.pid !== victim.pid ? s : undefined;
      },
      10_000,
    );
    const replacedInMs = Date.now() - killedAt;
    await waitFor("frontend-1 back in the balancer", async () =>
      (await servedBy(frontendUrl, 4)).has("frontend-1"),
    );
    await load.stop();

    expect(replacedInMs, "replaced within seconds").toBeLessThan(10_000);
    expect(fresh.port, "on the same port").toBe(victim.port);
    // Reads never failed (the balancer retries a refused connection on the other frontend); a vote fails
    // only if it was on its way to frontend-1 at the moment it was killed (never retried: no double votes).
    expect(load.log.reads.filter((r) => r.status !== 200)).toEqual([]);
    const failedVotes = load.log.votes.filter((v) => v.status !== 201);
    expect(failedVotes.length).toBeLessThanOrEqual(1);
    for (const v of failedVotes) expect(Math.abs(v.at - killedAt)).toBeLessThan(1000);

    // The replacement is on record for the operation history, with both pids.
    const read = await ops.readRepairs?.({ name: "alpha", target: "local" });
    expect(read?.repairs).toContainEqual(
      expect.objectContaining({
        process: "frontend-1",
        outcome: "restarted",
        pid: victim.pid,
        newPid: fresh.pid,
      }),
    );
    // The state stays true: nothing to refresh (the resource is the supervised service, not its pid).
    const refreshed = await ops.refresh({ name: "alpha", target: "local" });
    expect(Object.keys(refreshed.changes)).toEqual(["same"]);
    expect(refreshed.observed).toEqual({ frontendReplicas: 2, redisReplicas: 2 });
    await expectProcessTableMatchesState("alpha");
  });

  it("restarts a SIGKILLed Redis writer as the writer with its votes; meanwhile votes are refused fast and reads are served", async () => {
    for (let i = 0; i < 5; i++) expect((await vote(frontendUrl, "Cats")).status).toBe(201);
    await sleep(300); // replicated
    const before = countOf(await results(frontendUrl), "Cats");
    expect(before).toBeGreaterThanOrEqual(6);
    const victim = serviceNamed(envDir("alpha"), "redis-0");
    if (!victim) throw new Error("redis-0 is not running");
    const load = traffic(frontendUrl);
    await sleep(300);
    process.kill(victim.pid, "SIGKILL");
    const fresh = await waitFor(
      "redis-0 running again",
      () => {
        const s = serviceNamed(envDir("alpha"), "redis-0");
        return s?.state === "RUNNING" && s.pid !== victim.pid ? s : undefined;
      },
      10_000,
    );
    await waitFor(
      "votes counted again",
      async () => (await vote(frontendUrl, "Cats")).status === 201,
      10_000,
    );
    await load.stop();

    expect(fresh.port).toBe(victim.port);
    expect(
      load.log.reads.filter((r) => r.status !== 200),
      "reads while the writer was down",
    ).toEqual([]);
    // Votes: counted, or refused at once (503); never a false acknowledgement, never a hang.
    expect(load.log.votes.filter((v) => v.status !== 201 && v.status !== 503)).toEqual([]);
    expect(Math.max(...load.log.votes.map((v) => v.ms)), "slowest vote (ms)").toBeLessThan(2500);
    // It came back as the writer, from its replica's data: the votes from before the kill are all there
    // (an empty writer would have wiped its replica too).
    const after = countOf(await results(frontendUrl), "Cats");
    expect(after).toBeGreaterThanOrEqual(before + 1);
    const info = spawnSync(
      "redis-cli",
      ["-p", String(fresh.port), "--no-auth-warning", "INFO", "replication"],
      {
        encoding: "utf8",
        env: {
          ...process.env,
          REDISCLI_AUTH:
            readFileSync(path.join(envDir("alpha"), "conf", "redis-0.conf"), "utf8").match(
              /^requirepass (\S+)$/m,
            )?.[1] ?? "",
        },
      },
    ).stdout;
    expect(info).toContain("role:master");
    expect(info).toContain("connected_slaves:1");
    const read = await ops.readRepairs?.({ name: "alpha", target: "local" });
    expect(read?.repairs).toContainEqual(
      expect.objectContaining({
        process: "redis-0",
        outcome: "restarted",
        pid: victim.pid,
        newPid: fresh.pid,
      }),
    );
  });

  it("keeps the frontends in the balancer while the writer stays down (liveness, not readiness): reads served, votes refused", async () => {
    const before = countOf(await results(frontendUrl), "Cats");
    supervisorctl("alpha", "stop", "redis-0");
    // The frontends are not ready (their writer is gone) but alive: the balancer keeps both.
    expect((await getText(`${frontendUrl}/readyz`)).status).toBe(503);
    await sleep(3000); // several health checks
    expect(await servedBy(frontendUrl, 6)).toEqual(new Set(["frontend-0", "frontend-1"]));
    expect(countOf(await results(frontendUrl), "Cats")).toBe(before);
    const refused = Date.now();
    expect((await vote(frontendUrl, "Cats")).status).toBe(503);
    expect(Date.now() - refused).toBeLessThan(2500);

    supervisorctl("alpha", "start", "redis-0");
    await waitFor(
      "votes counted again",
      async () => (await vote(frontendUrl, "Cats")).status === 201,
      15_000,
    );
    expect(countOf(await results(frontendUrl), "Cats")).toBeGreaterThanOrEqual(before + 1);
  });

  it("previews, then scales frontends 2→4 and Redis 2→1, touching only the replicas that change", async () => {
    const before = new Map(services(envDir("alpha")).map((r) => [r.name, r]));
    const removedRedis = before.get("redis-1");
    if (!removedRedis) throw new Error("redis-1 was not running");

    // Preview first: it says what would change and changes nothing.
    const preview = await ops.preview(spec("alpha", 4, 1));
    expect(preview.changes).toMatchObject({ create: 2, delete: 1 });
    expect(preview.outputs.frontendUrl).toBe(frontendUrl);
    expect(
      services(envDir("alpha"))
        .map((r) => r.pid)
        .sort(),
    ).toEqual([...before.values()].map((r) => r.pid).sort());
    const result = await ops.up(spec("alpha", 4, 1));

    expect(result.outputs.frontendUrl).toBe(frontendUrl);
    expect(result.outputs.redisWriterEndpoint).toBe(writer);
    expect(result.changes).toMatchObject({ create: 2, delete: 1 });
    const after = new Map(services(envDir("alpha")).map((r) => [r.name, r]));
    // The balancers took their new backends with a reload: same process, same port.
    for (const name of ["redis-0", "redis-writer", "redis-reader", "frontend-0", "frontend-1", "web"]) {
      expect(after.get(name)?.pid, name).toBe(before.get(name)?.pid);
      expect(after.get(name)?.port, name).toBe(before.get(name)?.port);
    }
    expect(after.has("redis-1")).toBe(false);
    expect(alive(removedRedis)).toBe(false);
    expect(await portFree(removedRedis.port)).toBe(true);
    expect(await servedBy(frontendUrl, 12)).toEqual(
      new Set(["frontend-0", "frontend-1", "frontend-2", "frontend-3"]),
    );
    // The votes live on: the primary was kept.
    expect(countOf(await results(frontendUrl), "Cats")).toBeGreaterThanOrEqual(1);
    await expectProcessTableMatchesState("alpha");
  });

  it("a killed supervisor: the drift check reports every part gone and changes nothing; refresh stops the unsupervised processes; up brings all back on the same ports", async () => {
    const supervisorPid = (await stateResources("alpha")).find((r) => r.type === "Supervisor")?.pid ?? 0;
    const before = services(envDir("alpha"));
    const names = before.map((s) => s.name).sort();
    process.kill(supervisorPid, "SIGKILL");
    await sleep(300);
    // Its processes outlive it (and keep serving), but nothing supervises them any more.
    expect(before.every(alive)).toBe(true);
    expect((await getText(`${frontendUrl}/healthz`)).status).toBe(200);

    const report = await ops.detectDrift?.({ name: "alpha", target: "local" });
    expect(report?.drifted).toBe(true);
    expect(report?.differences.map((d) => d.name).sort()).toEqual([...names, "supervisor"].sort());
    expect(report?.differences.every((d) => d.op === "delete")).toBe(true);
    expect(report?.changes).toMatchObject({ delete: names.length + 1 });
    // A preview: the state and the processes are as they were.
    expect(await stateServices("alpha")).toEqual(names);
    expect(before.every(alive)).toBe(true);

    const { events, onEvent } = collect();
    const refreshed = await ops.refresh({ name: "alpha", target: "local" }, { onEvent });
    expect(refreshed.changes.delete).toBe(names.length + 1);
    expect(refreshed.observed).toEqual({ frontendReplicas: 0, redisReplicas: 0 });
    const notices = events.flatMap((e) => (e.type === "notice" ? [e.message] : []));
    expect(notices).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `stopped web of alpha \\(pid \\d+\\), found in the process table: the environment's supervisor \\(pid ${supervisorPid}\\) is gone`,
        ),
      ),
    );
    expect(environmentProcesses(envDir("alpha"))).toEqual([]);
    for (const s of before) expect(await portFree(s.port), `${s.name}'s port`).toBe(true);

    const repaired = await ops.up(spec("alpha", 4, 1));
    expect(repaired.changes.create).toBe(names.length + 1);
    expect(repaired.outputs.frontendUrl).toBe(frontendUrl);
    expect(repaired.outputs.redisWriterEndpoint).toBe(writer);
    const after = new Map(services(envDir("alpha")).map((s) => [s.name, s]));
    for (const s of before) expect(after.get(s.name)?.port, `${s.name} on its old port`).toBe(s.port);
    await expectProcessTableMatchesState("alpha");
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
    expect(serviceNamed(envDir("alpha"), "frontend-6")).toBeUndefined();

    const result = await ops.up(spec("alpha", 6, 1));
    expect(result.outputs.frontendUrl).toBe(frontendUrl);
    expect(services(envDir("alpha")).filter((r) => r.name.startsWith("frontend-")).length).toBe(6);
    await expectProcessTableMatchesState("alpha");
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
      // Once a frontend is a program of the supervisor, its create is still waiting for it.
      await waitFor(
        "the run to kill to start a frontend",
        () => services(envDir("delta")).some((r) => r.name.startsWith("frontend-")),
        90_000,
      );
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
    const pluginsOfKilledRun = pluginProcesses();
    expect(pluginsOfKilledRun.length).toBeGreaterThan(0);
    expect(leftoverWorkspaces(dataDir, "delta").length).toBe(1);
    const recorded = new Set(await stateServices("delta"));
    const orphans = services(envDir("delta")).filter((r) => !recorded.has(r.name));
    expect(orphans.some((r) => r.name.startsWith("frontend-"))).toBe(true);
    const locks = await postgres.query(
      DB,
      "SELECT key FROM pulumi_state WHERE key LIKE '%/.pulumi/locks/%/delta/%'",
    );
    expect(locks.length).toBe(1);
    // A process of the environment that nothing runs (say, started by hand, or by a run killed before it
    // was handed to the supervisor): only the process table knows it.
    const stray = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], {
      stdio: "ignore",
      cwd: envDir("delta"),
      env: { ...process.env, PLATFORM_ENVIRONMENT_DIR: envDir("delta"), PLATFORM_PROCESS_NAME: "frontend-9" },
    });
    await sleep(200);

    // The next operation, a refresh, recovers by itself and says so; then the state matches reality.
    const { events, onEvent } = collect();
    await slowOps.refresh({ name: "delta", target: "local" }, { onEvent });
    const notices = events.filter((e) => e.type === "notice").map((e) => (e as { message: string }).message);
    expect(notices.some((m) => m.includes("stale lock"))).toBe(true);
    expect(notices.some((m) => m.includes("pending operation"))).toBe(true);
    for (const o of orphans) {
      expect(notices).toContainEqual(
        expect.stringContaining(`stopped ${o.name} of delta and removed it from its supervisor`),
      );
    }
    expect(notices).toContainEqual(
      expect.stringMatching(
        new RegExp(`stopped frontend-9 of delta \\(pid ${stray.pid}\\), found in the process table`),
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
    const betaPorts = new Set(services(envDir("beta")).map((r) => r.port));
    expect(services(envDir("gamma")).some((r) => betaPorts.has(r.port))).toBe(false);
  });

  it("destroys: every process gone, every port free, the stack removed", async () => {
    for (const name of ["alpha", "beta", "gamma", "delta"]) {
      const records = services(envDir(name));
      const processes = environmentProcesses(envDir(name)).map((p) => ({
        pid: p.pid,
        startTime: String(processControl.processStartTime(p.pid)),
      }));
      expect(records.length).toBeGreaterThan(0);
      const { events, onEvent } = collect();
      const result = await ops.destroy({ name, target: "local" }, { onEvent });
      expect(result.changes.delete).toBeGreaterThanOrEqual(records.length + 1);
      expect(environmentProcesses(envDir(name)), `processes of ${name}`).toEqual([]);
      for (const p of processes) expect(alive(p)).toBe(false);
      // The CLI's hint to run `pulumi stack rm` is not shown: the stack is removed, and a notice says so.
      const lines = events.flatMap((e) => (e.type === "log" ? [e.line] : []));
      expect(lines.some((l) => l.includes("deleted"))).toBe(true);
      expect(lines.filter((l) => /stack rm|history and configuration/.test(l))).toEqual([]);
      expect(events).toContainEqual({
        type: "notice",
        message: `removed the stack ${name} (its history and configuration) from the state backend`,
      });
      expect(events.filter((e) => e.type === "progress").at(-1)).toMatchObject({ percent: 100 });
      for (const r of records) expect(await portFree(r.port), `${name}/${r.name} port ${r.port}`).toBe(true);
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
