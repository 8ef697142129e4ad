// Drift checks, the supervisors' repairs in the history, refresh telling the truth and reconcile, against a real
// PostgreSQL and pg-boss. The drift check itself is scripted here (these tests are about scheduling, claims
// and what is recorded); the repairs are read by the real @platform/infra reader from real event files; the
// browser test (drift.e2e) runs all of it on real local environments.
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { createDbClient, type PrismaClient } from "@platform/db";
import type { DriftReport } from "@platform/infra/types";
import type PgBoss from "pg-boss";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type CommandContext,
  createEnvironment,
  reconcileEnvironment,
  refreshEnvironment,
  scaleEnvironment,
} from "../../src/features/environments/commands";
import { startQueue } from "../../src/server/queue";
import { DriftMonitor } from "../../src/server/worker/drift";
import type { EnvironmentOperations, EnvironmentRef } from "../../src/server/worker/operations-contract";
import { RepairRecorder } from "../../src/server/worker/repairs";
import { makePrincipal } from "../../src/shared/access";
import { syncOf } from "../../src/shared/sync";
import { startTestDatabaseServer, type TestDatabaseServer, waitFor } from "../helpers/database";
import { ScriptedOperations } from "../helpers/scripted-operations";
import { startWorker } from "../helpers/worker-setup";

// The real operations of @platform/infra, for their repairs reader (no Pulumi run is made here).
const infra: typeof import("@platform/infra") = createRequire(import.meta.url)("@platform/infra");

let pg: TestDatabaseServer;
let tmp: string;
const cleanups: Array<() => Promise<unknown> | unknown> = [];

beforeAll(async () => {
  pg = await startTestDatabaseServer();
  tmp = mkdtempSync(path.join(os.tmpdir(), "portal-drift-"));
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  await pg?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

interface Setup {
  url: string;
  db: PrismaClient;
  boss: PgBoss;
  ctx: CommandContext;
}

async function setup(): Promise<Setup> {
  const url = await pg.fresh();
  const db = createDbClient(url, { poolSize: 6 });
  const boss = await startQueue(url, { role: "sender" });
  cleanups.push(
    () => db.$disconnect(),
    () => boss.stop({ graceful: false, wait: true }),
  );
  return { url, db, boss, ctx: { db, boss, principal: makePrincipal("tester@example.com", "admin") } };
}

/** A ready environment, as a create that succeeded leaves it. */
async function readyEnvironment(db: PrismaClient, name: string, target: "local" | "aws" = "local") {
  const env = await db.environment.create({
    data: {
      name,
      target,
      region: target === "aws" ? "eu-west-1" : null,
      owner: "tester@example.com",
      status: "ready",
      desiredFrontendReplicas: 2,
      desiredRedisReplicas: 2,
      currentFrontendReplicas: 2,
      currentRedisReplicas: 2,
      outputs: { frontendUrl: "http://127.0.0.1:1" },
    },
  });
  const op = await db.operation.create({
    data: {
      environmentId: env.id,
      kind: "create",
      status: "succeeded",
      requestedConfig: { name, target, frontendReplicas: 2, redisReplicas: 2 },
      requestedBy: "tester@example.com",
      startedAt: new Date(Date.now() - 60_000),
      finishedAt: new Date(Date.now() - 50_000),
    },
  });
  return await db.environment.update({ where: { id: env.id }, data: { lastOperationId: op.id } });
}

/** Drift checks scripted per environment: what they answer and how long they take. */
class ScriptedDrift {
  readonly checked: string[] = [];
  answers = new Map<string, Partial<DriftReport> | Error>();
  durationMs = 0;
  notHere = new Set<string>();
  active = 0;
  maxActive = 0;
  ops(): EnvironmentOperations {
    const base = new ScriptedOperations({ durationMs: 50 });
    return {
      up: (s, o) => base.up(s, o),
      preview: (s, o) => base.preview(s, o),
      refresh: (r, o) => base.refresh(r, o),
      destroy: (r, o) => base.destroy(r, o),
      recover: (r) => base.recover(r),
      hostsEnvironment: (ref: EnvironmentRef) => !this.notHere.has(ref.name),
      detectDrift: async (ref: EnvironmentRef) => {
        this.checked.push(ref.name);
        this.active++;
        this.maxActive = Math.max(this.maxActive, this.active);
        try {
          await new Promise((r) => setTimeout(r, this.durationMs));
          const answer = this.answers.get(ref.name);
          if (answer instanceof Error) throw answer;
          return {
            environment: ref.name,
            drifted: false,
            changes: { same: 9 },
            differences: [],
            durationMs: this.durationMs,
            ...answer,
          };
        } finally {
          this.active--;
        }
      },
    };
  }
}

const monitor = (s: Setup, ops: EnvironmentOperations, workerId = "w1", local = 60, aws = 0) => {
  const m = new DriftMonitor({
    db: s.db,
    ops,
    localSeconds: local,
    awsSeconds: aws,
    workerId,
    log: () => {},
  });
  cleanups.push(() => m.stop());
  return m;
};

const driftOf = (db: PrismaClient, name: string) =>
  db.environmentDrift.findFirst({ where: { environment: { name } } });

const gone = { name: "frontend-1", type: "VotingApp", op: "delete" as const };

describe("drift checks", () => {
  it("checks each ready environment once when due and records what differs; the page logic then says drifted", async () => {
    const s = await setup();
    await readyEnvironment(s.db, "alpha");
    await readyEnvironment(s.db, "beta");
    const drift = new ScriptedDrift();
    drift.answers.set("alpha", { drifted: true, changes: { same: 8, delete: 1 }, differences: [gone] });
    const m = monitor(s, drift.ops());

    const outcomes = await m.checkDue();
    expect(outcomes.map((o) => `${o.environment} ${o.result}`).sort()).toEqual([
      "alpha drifted",
      "beta in_sync",
    ]);
    // Not due again until the interval has passed.
    expect(await m.checkDue()).toEqual([]);
    expect(drift.checked.sort()).toEqual(["alpha", "beta"]);

    const alpha = await driftOf(s.db, "alpha");
    expect(alpha).toMatchObject({
      status: "drifted",
      changes: { same: 8, delete: 1 },
      differences: [gone],
      checkingBy: null,
    });
    expect(alpha?.driftedSince).toBeInstanceOf(Date);
    const env = await s.db.environment.findFirstOrThrow({
      where: { name: "alpha" },
      include: { lastOperation: true, drift: true },
    });
    expect(syncOf(env)).toMatchObject({
      drifted: true,
      reasons: ["The drift check found frontend-1 (VotingApp) is gone."],
    });
    expect((await driftOf(s.db, "beta"))?.status).toBe("in_sync");
  });

  it("leaves alone an environment with an operation queued or running, one not ready, another host's, and a target whose checks are off", async () => {
    const s = await setup();
    const busy = await readyEnvironment(s.db, "busy");
    await s.db.operation.create({
      data: {
        environmentId: busy.id,
        kind: "scale",
        status: "running",
        requestedConfig: {},
        requestedBy: "x",
      },
    });
    const failed = await readyEnvironment(s.db, "broken");
    await s.db.environment.update({ where: { id: failed.id }, data: { status: "failed" } });
    await readyEnvironment(s.db, "elsewhere");
    await readyEnvironment(s.db, "cloud", "aws");
    await readyEnvironment(s.db, "here");
    const drift = new ScriptedDrift();
    drift.notHere.add("elsewhere");
    await monitor(s, drift.ops()).checkDue();
    expect(drift.checked).toEqual(["here"]);
    // With AWS checks on, the AWS environment is checked too.
    await monitor(s, drift.ops(), "w2", 60, 600).checkDue();
    expect(drift.checked).toEqual(["here", "cloud"]);
  });

  it("throws away a check that an operation overtook, and checks again once nothing runs", async () => {
    const s = await setup();
    await readyEnvironment(s.db, "alpha");
    const drift = new ScriptedDrift();
    drift.durationMs = 800;
    drift.answers.set("alpha", { drifted: true, changes: { delete: 1 }, differences: [gone] });
    const m = monitor(s, drift.ops());
    const running = m.checkNext();
    await new Promise((r) => setTimeout(r, 200));
    const refreshed = await refreshEnvironment(s.ctx, { name: "alpha", idempotencyKey: crypto.randomUUID() });
    expect(refreshed.ok).toBe(true);
    expect(await running).toEqual({ environment: "alpha", result: "discarded" });
    const row = await driftOf(s.db, "alpha");
    expect(row).toMatchObject({ status: null, checkedAt: null, checkingBy: null });
    // While the refresh is queued, no check; once it is over, the environment is due at once.
    expect(await m.checkNext()).toBeUndefined();
    await s.db.operation.updateMany({
      where: { kind: "refresh" },
      data: { status: "succeeded", finishedAt: new Date() },
    });
    expect((await m.checkNext())?.result).toBe("drifted");
  });

  it("two workers never check one environment at once; a failed check is recorded as failed", async () => {
    const s = await setup();
    for (const n of ["e1", "e2", "e3"]) await readyEnvironment(s.db, n);
    const drift = new ScriptedDrift();
    drift.durationMs = 300;
    drift.answers.set("e2", new Error("the Pulumi state backend is unreachable"));
    const ops = drift.ops();
    await Promise.all([monitor(s, ops, "w1").checkDue(), monitor(s, ops, "w2").checkDue()]);
    expect(drift.checked.sort()).toEqual(["e1", "e2", "e3"]);
    const e2 = await driftOf(s.db, "e2");
    expect(e2).toMatchObject({ status: "failed", error: "the Pulumi state backend is unreachable" });
    const env = await s.db.environment.findFirstOrThrow({
      where: { name: "e2" },
      include: { lastOperation: true, drift: true },
    });
    expect(syncOf(env)).toMatchObject({
      drifted: false,
      lastCheck: { failed: "the Pulumi state backend is unreachable" },
    });
  });
});

describe("repairs by the local supervisors", () => {
  const eventsFile = (dataDir: string, name: string) =>
    path.join(dataDir, name, "run", "process-events.jsonl");
  const record = (dataDir: string, name: string, lines: object[]) => {
    mkdirSync(path.dirname(eventsFile(dataDir, name)), { recursive: true });
    appendFileSync(eventsFile(dataDir, name), lines.map((l) => `${JSON.stringify(l)}\n`).join(""));
  };
  const realOps = (dataDir: string) =>
    infra.createEnvironmentOperations({
      backendUrl: `file://${path.join(dataDir, "state")}`,
      dataDir,
      passphrase: "x",
    });

  it("records what a supervisor replaced as one finished repair entry, once, without making it the last operation", async () => {
    const s = await setup();
    const env = await readyEnvironment(s.db, "alpha");
    const dataDir = mkdtempSync(path.join(tmp, "data-"));
    const ops = realOps(dataDir);
    cleanups.push(() => ops.close());
    const recorder = new RepairRecorder({ db: s.db, ops, scanSeconds: 5, log: () => {} });
    expect(await recorder.scan()).toEqual([]); // no events yet

    record(dataDir, "alpha", [
      { at: "2026-12-01T10:00:00.000Z", state: "RUNNING", process: "frontend-1", from: "STARTING", pid: 100 },
      {
        at: "2026-12-01T10:00:05.000Z",
        state: "EXITED",
        process: "frontend-1",
        from: "RUNNING",
        pid: 100,
        expected: 0,
      },
      { at: "2026-12-01T10:00:05.010Z", state: "STARTING", process: "frontend-1", from: "EXITED", tries: 0 },
      { at: "2026-12-01T10:00:06.250Z", state: "RUNNING", process: "frontend-1", from: "STARTING", pid: 101 },
      {
        at: "2026-12-01T10:00:07.000Z",
        state: "EXITED",
        process: "redis-0",
        from: "RUNNING",
        pid: 200,
        expected: 0,
      },
      { at: "2026-12-01T10:00:07.500Z", state: "RUNNING", process: "redis-0", from: "STARTING", pid: 201 },
    ]);
    const [id] = await recorder.scan();
    const op = await s.db.operation.findUniqueOrThrow({ where: { id }, include: { events: true } });
    expect(op).toMatchObject({
      kind: "repair",
      status: "succeeded",
      requestedBy: "supervisor",
      changes: { replace: 2 },
      startedAt: new Date("2026-12-01T10:00:05.000Z"),
      finishedAt: new Date("2026-12-01T10:00:07.500Z"),
    });
    expect(op.events.map((e) => e.message)).toEqual([
      "frontend-1 (pid 100) exited unexpectedly; the supervisor started it again as pid 101 after 1.3 s.",
      "redis-0 (pid 200) exited unexpectedly; the supervisor started it again as pid 201 after 0.5 s.",
    ]);
    // A record of history: the environment's status and last operation are what they were.
    const after = await s.db.environment.findUniqueOrThrow({ where: { id: env.id } });
    expect(after).toMatchObject({ status: "ready", lastOperationId: env.lastOperationId });
    // Nothing new: nothing recorded twice, also by two recorders at once.
    const twin = new RepairRecorder({ db: s.db, ops, scanSeconds: 5, log: () => {} });
    expect(await Promise.all([recorder.scan(), twin.scan()])).toEqual([[], []]);
    record(dataDir, "alpha", [
      {
        at: "2026-12-01T10:01:00.000Z",
        state: "EXITED",
        process: "web",
        from: "RUNNING",
        pid: 300,
        expected: 0,
      },
      { at: "2026-12-01T10:01:01.000Z", state: "RUNNING", process: "web", from: "STARTING", pid: 301 },
    ]);
    const both = (await Promise.all([recorder.scan(), twin.scan()])).flat();
    expect(both).toHaveLength(1);
    expect(await s.db.operation.count({ where: { kind: "repair" } })).toBe(2);
  });

  it("records a give-up as a failed repair and brings the drift check forward", async () => {
    const s = await setup();
    const env = await readyEnvironment(s.db, "alpha");
    await s.db.environmentDrift.create({
      data: { environmentId: env.id, status: "in_sync", checkedAt: new Date() },
    });
    const dataDir = mkdtempSync(path.join(tmp, "data-"));
    const ops = realOps(dataDir);
    cleanups.push(() => ops.close());
    record(dataDir, "alpha", [
      {
        at: "2026-12-01T10:00:05.000Z",
        state: "EXITED",
        process: "frontend-0",
        from: "RUNNING",
        pid: 100,
        expected: 0,
      },
      { at: "2026-12-01T10:00:05.100Z", state: "BACKOFF", process: "frontend-0", from: "STARTING", tries: 1 },
      { at: "2026-12-01T10:00:11.000Z", state: "FATAL", process: "frontend-0", from: "BACKOFF" },
    ]);
    const [id] = await new RepairRecorder({ db: s.db, ops, scanSeconds: 5, log: () => {} }).scan();
    const op = await s.db.operation.findUniqueOrThrow({ where: { id } });
    expect(op).toMatchObject({ kind: "repair", status: "failed", errorCode: "gave-up" });
    expect(op.error).toContain(
      "frontend-0 (pid 100) exited and kept failing to start: the supervisor gave up.",
    );
    expect((await driftOf(s.db, "alpha"))?.checkedAt).toBeNull();
  });
});

describe("refresh tells the truth, reconcile repairs", () => {
  /** Scripted operations whose refresh finds one frontend gone, and whose up makes it whole. */
  class OneFrontendGone extends ScriptedOperations {
    override async refresh(ref: EnvironmentRef, opts?: Parameters<ScriptedOperations["refresh"]>[1]) {
      const result = await super.refresh(ref, opts);
      return {
        ...result,
        changes: { same: 9, delete: 1 },
        observed: { frontendReplicas: 1, redisReplicas: 2 },
      };
    }
  }

  it("records the counts a refresh found, says the environment drifted, and a reconcile (an up with the counts asked for) repairs it", async () => {
    const s = await setup();
    const ops = new OneFrontendGone({ durationMs: 100 });
    await startWorker(s, ops, cleanups);
    const key = () => crypto.randomUUID();
    const load = () =>
      s.db.environment.findFirstOrThrow({
        where: { name: "alpha" },
        include: { lastOperation: true, drift: true },
      });
    const settled = async () =>
      waitFor("the operation to finish", async () => {
        const e = await load();
        return e.lastOperation && !["queued", "running"].includes(e.lastOperation.status) ? e : undefined;
      });

    const created = await createEnvironment(s.ctx, {
      name: "alpha",
      target: "local",
      frontendReplicas: 2,
      redisReplicas: 2,
      idempotencyKey: key(),
    });
    expect(created.ok).toBe(true);
    expect((await settled()).status).toBe("ready");
    expect(syncOf(await load()).drifted).toBe(false);

    expect((await refreshEnvironment(s.ctx, { name: "alpha", idempotencyKey: key() })).ok).toBe(true);
    const refreshed = await settled();
    expect(refreshed).toMatchObject({ status: "ready", currentFrontendReplicas: 1, currentRedisReplicas: 2 });
    expect(syncOf(refreshed)).toEqual({
      drifted: true,
      reasons: ["Frontends: 2 asked for, 1 running.", "The last refresh found: 1 gone."],
    });
    // Scaling to the counts asked for is no longer "nothing to change": fewer run.
    const scale = await scaleEnvironment(s.ctx, {
      name: "alpha",
      frontendReplicas: 2,
      redisReplicas: 2,
      idempotencyKey: key(),
    });
    expect(scale.ok).toBe(true);
    await settled();

    // Reconcile: an up with what was asked for.
    expect((await refreshEnvironment(s.ctx, { name: "alpha", idempotencyKey: key() })).ok).toBe(true);
    await settled();
    const reconcile = await reconcileEnvironment(s.ctx, { name: "alpha", idempotencyKey: key() });
    expect(reconcile).toMatchObject({ ok: true, message: "Reconcile requested." });
    const repaired = await settled();
    expect(repaired.lastOperation).toMatchObject({ kind: "reconcile", status: "succeeded" });
    expect(repaired).toMatchObject({ currentFrontendReplicas: 2, currentRedisReplicas: 2 });
    expect(syncOf(repaired).drifted).toBe(false);
    expect(ops.calls.filter((c) => c.method === "up")).toHaveLength(3); // create, scale, reconcile
  });

  it("refuses a reconcile while an operation runs, and an unknown environment", async () => {
    const s = await setup();
    const env = await readyEnvironment(s.db, "alpha");
    await s.db.operation
      .create({
        data: {
          environmentId: env.id,
          kind: "scale",
          status: "running",
          requestedConfig: {},
          requestedBy: "x",
        },
      })
      .then((op) => s.db.environment.update({ where: { id: env.id }, data: { lastOperationId: op.id } }));
    expect(
      await reconcileEnvironment(s.ctx, { name: "alpha", idempotencyKey: crypto.randomUUID() }),
    ).toMatchObject({
      ok: false,
      code: "refused",
      message: "Cannot reconcile now: a scale operation is running. Wait for it or cancel it.",
    });
    expect(
      await reconcileEnvironment(s.ctx, { name: "ghost", idempotencyKey: crypto.randomUUID() }),
    ).toMatchObject({
      ok: false,
      code: "not-found",
    });
  });
});
