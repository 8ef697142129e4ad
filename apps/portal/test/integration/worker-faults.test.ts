// The worker's faults under real PostgreSQL, pg-boss and worker processes (operations scripted: these are
// about the worker): skewed clocks, a worker that lost its operation, the operation timeout, several hosts.
import { randomUUID } from "node:crypto";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { destroyEnvironment, scaleEnvironment } from "../../src/features/environments/commands";
import { hostQueue, OPERATIONS_QUEUE, startQueue } from "../../src/server/queue";
import { startTestDatabaseServer, type TestDatabaseServer, waitFor } from "../helpers/database";
import { ScriptedOperations } from "../helpers/scripted-operations";
import { startScriptedWorker, writeScript } from "../helpers/scripted-worker-process";
import { type Cleanups, create, envOf, finished, setup, sleep, startWorker } from "../helpers/worker-setup";

let pg: TestDatabaseServer;
const cleanups: Cleanups = [];

beforeAll(async () => {
  pg = await startTestDatabaseServer();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  await pg?.stop();
});

const TEN_MINUTES = 10 * 60_000;

async function scriptedWorker(
  url: string,
  id: string,
  script: Parameters<typeof writeScript>[1],
  env: Partial<Parameters<typeof startScriptedWorker>[0]> = {},
) {
  const scriptFile = path.join(pg.dir, `${id}-${randomUUID()}.json`);
  writeScript(scriptFile, script);
  const worker = await startScriptedWorker({
    DATABASE_URL: url,
    WORKER_ID: id,
    SCRIPT_FILE: scriptFile,
    ...env,
  });
  cleanups.push(() => worker.stop());
  return worker;
}

describe("clocks: the database's time everywhere", () => {
  it("a worker whose clock runs 10 minutes ahead does not take a live operation for a dead one", async () => {
    const s = await setup(pg, cleanups);
    const steady = await scriptedWorker(s.url, "steady", { durationMs: null });
    await create(s.ctx, "tick");
    await waitFor("the steady worker to run it", async () => steady.output().includes("running up tick"));
    // A second worker, its clock 10 minutes fast, looks for dead workers' operations every second.
    await scriptedWorker(
      s.url,
      "ahead",
      { durationMs: 100 },
      { CLOCK_SKEW_MS: String(TEN_MINUTES), REAP_EVERY_SECONDS: "1" },
    );
    await sleep(6000); // two stale periods: several of its reaper rounds
    const env = await envOf(s.db, "tick");
    expect(env.lastOperation).toMatchObject({ status: "running", workerId: "steady", error: null });
    expect(env.status).toBe("provisioning");
    expect(steady.output()).not.toContain("aborted");
  }, 60_000);

  it("a worker whose clock runs 10 minutes behind records start, heartbeat and end on the database's clock", async () => {
    const s = await setup(pg, cleanups);
    await scriptedWorker(s.url, "behind", { durationMs: 2500 }, { CLOCK_SKEW_MS: String(-TEN_MINUTES) });
    // A normal worker reaps meanwhile (and runs nothing): the slow clock's run must not look dead to it.
    await startWorker(s, new ScriptedOperations({ durationMs: 100 }), cleanups, { concurrency: 0 });
    await create(s.ctx, "tock");
    const env = await finished(s.db, "tock");
    const op = env.lastOperation;
    expect(op?.status).toBe("succeeded");
    expect(op?.workerId).toBe("behind");
    const created = op?.createdAt.getTime() ?? 0; // the database's default now()
    const started = op?.startedAt?.getTime() ?? 0;
    const ended = op?.finishedAt?.getTime() ?? 0;
    expect(started - created).toBeGreaterThanOrEqual(0);
    expect(started - created).toBeLessThan(10_000);
    expect(ended - started).toBeGreaterThanOrEqual(2000);
    expect(ended - started).toBeLessThan(20_000);
    expect(op?.heartbeatAt?.getTime() ?? 0).toBeGreaterThanOrEqual(started);
  }, 60_000);
});

describe("a worker that lost its operation", () => {
  it("stops its run when a heartbeat finds the operation no longer its own (frozen, then interrupted by another)", async () => {
    const s = await setup(pg, cleanups);
    const frozen = await scriptedWorker(s.url, "frozen", { durationMs: null });
    await create(s.ctx, "paused");
    await waitFor("the run to start", async () => frozen.output().includes("running up paused"));
    frozen.child.kill("SIGSTOP"); // no heartbeats from now on
    cleanups.push(() => frozen.child.kill("SIGCONT"));
    await startWorker(s, new ScriptedOperations({ durationMs: 100 }), cleanups, { workerId: "reaper" });
    const interrupted = await finished(s.db, "paused");
    expect(interrupted.lastOperation).toMatchObject({ status: "interrupted", errorCode: "interrupted" });
    frozen.child.kill("SIGCONT");
    // Its next heartbeat updates no row: the run is aborted.
    await waitFor(
      "the frozen worker to abort its run",
      async () => frozen.output().includes("aborted up paused"),
      10_000,
    );
    await sleep(1000);
    const env = await envOf(s.db, "paused");
    expect(env.lastOperation).toMatchObject({
      status: "interrupted",
      errorCode: "interrupted",
      workerId: "frozen",
      error: expect.stringMatching(/worker frozen stopped \(no heartbeat since/),
    });
    expect(env.status).toBe("failed");
    const notices = await s.db.operationEvent.findMany({
      where: { operationId: env.lastOperationId ?? "", type: "notice" },
    });
    expect(notices.map((n) => n.message)).toContainEqual(
      expect.stringMatching(/result \(interrupted\) was not recorded: the operation is interrupted/),
    );
  }, 60_000);

  it("records a result only while the operation is still its own and running", async () => {
    const s = await setup(pg, cleanups);
    const ops = new ScriptedOperations({ durationMs: 1500 });
    // Heartbeats too rare to notice the takeover: the run completes, and only the recording can refuse.
    await startWorker(s, ops, cleanups, { heartbeatSeconds: 60, staleAfterSeconds: 200, workerId: "late" });
    await create(s.ctx, "overtaken");
    await waitFor("the run to start", async () => ops.active === 1);
    // Meanwhile another worker's reaper marked it interrupted (as it does for a worker it thinks dead).
    await s.db.operation.updateMany({
      where: { environment: { name: "overtaken" } },
      data: { status: "interrupted", errorCode: "interrupted", error: "interrupted by the test" },
    });
    await s.db.environment.updateMany({ where: { name: "overtaken" }, data: { status: "failed" } });
    await waitFor("the run to end", async () => ops.active === 0 && ops.calls.length === 1);
    await sleep(500);
    const env = await envOf(s.db, "overtaken");
    expect(env.lastOperation).toMatchObject({ status: "interrupted", error: "interrupted by the test" });
    expect(env.status).toBe("failed");
    expect(env.currentFrontendReplicas).toBeNull();
  });
});

describe("OPERATION_TIMEOUT_MINUTES", () => {
  it("aborts an operation that runs too long and records it as timed out", async () => {
    const s = await setup(pg, cleanups);
    const w = await scriptedWorker(
      s.url,
      "patient",
      { durationMs: null },
      { OPERATION_TIMEOUT_SECONDS: "2" },
    );
    await create(s.ctx, "endless");
    const env = await finished(s.db, "endless", 20_000);
    expect(env.lastOperation).toMatchObject({
      status: "failed",
      errorCode: "timed-out",
      error: expect.stringMatching(/^timed out: stopped after 2 s.*OPERATION_TIMEOUT_MINUTES/),
    });
    expect(env.status).toBe("failed");
    expect(w.output()).toContain("aborted up endless");
    const ran =
      (env.lastOperation?.finishedAt?.getTime() ?? 0) - (env.lastOperation?.startedAt?.getTime() ?? 0);
    expect(ran).toBeGreaterThanOrEqual(2000);
    expect(ran).toBeLessThan(10_000);
  }, 60_000);

  it("a changed timeout reaches a queue that already exists", async () => {
    const url = await pg.fresh();
    const first = await startQueue(url, { role: "worker", host: "host-t", expireInSeconds: 600 });
    expect((await first.getQueue(OPERATIONS_QUEUE))?.expireInSeconds).toBe(600);
    await first.stop({ graceful: false, wait: true });
    const second = await startQueue(url, { role: "worker", host: "host-t", expireInSeconds: 7200 });
    try {
      expect((await second.getQueue(OPERATIONS_QUEUE))?.expireInSeconds).toBe(7200);
      expect((await second.getQueue(hostQueue("host-t")))?.expireInSeconds).toBe(7200);
    } finally {
      await second.stop({ graceful: false, wait: true });
    }
  });
});

describe("workers on several hosts", () => {
  it("a local environment's operations go to the worker of the host that runs it", async () => {
    const s = await setup(pg, cleanups);
    const a = await scriptedWorker(s.url, "worker-a", { durationMs: 200 }, { HOST_ID: "host-a" });
    await create(s.ctx, "homed");
    const created = await finished(s.db, "homed");
    expect(created.lastOperation?.workerId).toBe("worker-a");
    expect(created.host).toBe("host-a");
    await a.stop();

    // Only host B's worker runs now: the scale waits for host A's.
    const b = await scriptedWorker(s.url, "worker-b", { durationMs: 200 }, { HOST_ID: "host-b" });
    const scaled = await scaleEnvironment(s.ctx, {
      name: "homed",
      frontendReplicas: 3,
      redisReplicas: 1,
      idempotencyKey: randomUUID(),
    });
    expect(scaled.ok).toBe(true);
    await sleep(4000);
    expect((await envOf(s.db, "homed")).lastOperation?.status).toBe("queued");
    expect(b.output()).not.toContain("homed");

    // An environment no host runs yet goes to whoever is free, and becomes that host's.
    await create(s.ctx, "newcomer");
    expect((await finished(s.db, "newcomer")).host).toBe("host-b");

    const a2 = await scriptedWorker(s.url, "worker-a2", { durationMs: 200 }, { HOST_ID: "host-a" });
    const env = await finished(s.db, "homed");
    expect(env.lastOperation).toMatchObject({ kind: "scale", status: "succeeded", workerId: "worker-a2" });
    expect(a2.output()).toContain("running up homed");
    // Each host destroys its own.
    for (const name of ["homed", "newcomer"]) {
      await destroyEnvironment(s.ctx, { name, confirmation: name, idempotencyKey: randomUUID() });
    }
    expect((await finished(s.db, "homed")).lastOperation?.workerId).toBe("worker-a2");
    expect((await finished(s.db, "newcomer")).lastOperation?.workerId).toBe("worker-b");
  }, 90_000);
});
