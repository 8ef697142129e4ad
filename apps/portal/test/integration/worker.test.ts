// Queue and worker against a real PostgreSQL (embedded) and pg-boss. The operations are scripted here because
// these tests are about queue semantics; the end-to-end test runs the real ones.
import { randomUUID } from "node:crypto";
import path from "node:path";
import { createDbClient, type PrismaClient } from "@platform/db";
import type PgBoss from "pg-boss";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type CommandContext,
  cancelOperation,
  createEnvironment,
  destroyEnvironment,
  previewScale,
  retryOperation,
  scaleEnvironment,
} from "../../src/features/environments/commands";
import * as forms from "../../src/features/environments/form-handlers";
import { OPERATIONS_QUEUE, startQueue } from "../../src/server/queue";
import { OperationWorker } from "../../src/server/worker/worker";
import { makePrincipal } from "../../src/shared/access";
import { startTestDatabaseServer, type TestDatabaseServer, waitFor } from "../helpers/database";
import { DatabaseStackLocks, ScriptedOperations } from "../helpers/scripted-operations";
import { startScriptedWorker, writeScript } from "../helpers/scripted-worker-process";

let pg: TestDatabaseServer;
const cleanups: Array<() => Promise<unknown> | unknown> = [];

beforeAll(async () => {
  pg = await startTestDatabaseServer();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  await pg?.stop();
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

async function startWorker(
  s: Setup,
  ops: ScriptedOperations,
  extra: Partial<ConstructorParameters<typeof OperationWorker>[0]> = {},
) {
  const boss = await startQueue(s.url, { role: "worker" });
  const worker = new OperationWorker({
    db: s.db,
    boss,
    ops,
    concurrency: 2,
    heartbeatSeconds: 1,
    staleAfterSeconds: 3,
    eventsPerOperation: 1000,
    eventRetentionDays: 1,
    reapEverySeconds: 1,
    databaseUrl: s.url,
    ...extra,
  });
  await worker.start();
  cleanups.push(async () => {
    await worker.stop(2000);
    await boss.stop({ graceful: false, wait: true });
  });
  return worker;
}

const create = (ctx: CommandContext, name: string, frontendReplicas = 2, redisReplicas = 1) =>
  createEnvironment(ctx, {
    name,
    target: "local",
    frontendReplicas,
    redisReplicas,
    idempotencyKey: randomUUID(),
  });

const scale = (ctx: CommandContext, name: string, frontendReplicas: number, redisReplicas = 1) =>
  scaleEnvironment(ctx, { name, frontendReplicas, redisReplicas, idempotencyKey: randomUUID() });

const envOf = (db: PrismaClient, name: string) =>
  db.environment.findFirstOrThrow({ where: { name, deletedAt: null }, include: { lastOperation: true } });

const finished = (db: PrismaClient, name: string) =>
  waitFor(`${name}'s last operation to finish`, async () => {
    const env = await envOf(db, name);
    const s = env.lastOperation?.status;
    // Prisma reads the relation in a second query: read again so the environment row is as fresh as the operation.
    return s && s !== "queued" && s !== "running" ? await envOf(db, name) : null;
  });

describe("queue and worker", () => {
  it("runs a requested create within a second and records status, outputs, progress and events", async () => {
    const s = await setup();
    const ops = new ScriptedOperations({ durationMs: 400, logLines: 3 });
    await startWorker(s, ops);
    const requested = Date.now();
    const result = await create(s.ctx, "alpha", 3, 2);
    expect(result.ok).toBe(true);
    await waitFor("the operation to start", async () => ops.calls.length > 0);
    expect((ops.calls[0]?.at ?? Number.NaN) - requested).toBeLessThan(1000);
    const env = await finished(s.db, "alpha");
    expect(env.status).toBe("ready");
    expect(env.currentFrontendReplicas).toBe(3);
    expect(env.currentRedisReplicas).toBe(2);
    expect(env.outputs).toMatchObject({ frontendUrl: "http://127.0.0.1:1/alpha" });
    expect(env.lastOperation).toMatchObject({
      status: "succeeded",
      kind: "create",
      requestedBy: "tester@example.com",
    });
    expect(env.lastOperation?.progressDone).toBe(4);
    const events = await s.db.operationEvent.findMany({
      where: { operationId: env.lastOperationId ?? "" },
      orderBy: { id: "asc" },
    });
    expect(events.map((e) => e.message)).toEqual(
      expect.arrayContaining(["line 0", "line 2", "✓ create test:Step step-4"]),
    );
  });

  it("allows one operation per environment and refuses impossible actions with a clear message", async () => {
    const s = await setup();
    const ops = new ScriptedOperations({ durationMs: 1500 });
    await startWorker(s, ops);
    await create(s.ctx, "beta");
    const busy = await scale(s.ctx, "beta", 3);
    expect(busy).toMatchObject({ ok: false, code: "refused" });
    expect(busy.message).toMatch(/create operation is (queued|running)/);
    await finished(s.db, "beta");
    const destroy = await destroyEnvironment(s.ctx, {
      name: "beta",
      confirmation: "beta",
      idempotencyKey: randomUUID(),
    });
    expect(destroy.ok).toBe(true);
    const twice = await destroyEnvironment(s.ctx, {
      name: "beta",
      confirmation: "beta",
      idempotencyKey: randomUUID(),
    });
    expect(twice).toMatchObject({ ok: false, message: "The environment is already being destroyed." });
    const scaling = await scale(s.ctx, "beta", 3);
    expect(scaling.message).toBe("Cannot scale while the environment is being destroyed.");
    const env = await finished(s.db, "beta");
    expect(env.status).toBe("destroyed");
    expect(env.outputs).toBeNull();
    const missing = await scale(s.ctx, "nope", 3);
    expect(missing).toMatchObject({ ok: false, code: "not-found" });
    const calls = ops.calls.map((c) => c.method);
    expect(calls).toEqual(["up", "destroy"]);
  });

  it("runs different environments in parallel, up to the configured concurrency", async () => {
    const s = await setup();
    const ops = new ScriptedOperations({ durationMs: 1200 });
    await startWorker(s, ops, { concurrency: 2 });
    for (const n of ["p-one", "p-two", "p-three"]) await create(s.ctx, n);
    for (const n of ["p-one", "p-two", "p-three"]) expect((await finished(s.db, n)).status).toBe("ready");
    expect(ops.maxActive).toBe(2);
  });

  it("a double submit with the same key creates one environment and one operation", async () => {
    const s = await setup();
    const key = randomUUID();
    const input = {
      name: "twice",
      target: "local" as const,
      frontendReplicas: 2,
      redisReplicas: 1,
      idempotencyKey: key,
    };
    const [a, b] = await Promise.all([createEnvironment(s.ctx, input), createEnvironment(s.ctx, input)]);
    expect(a.ok && b.ok).toBe(true);
    expect(await s.db.environment.count()).toBe(1);
    expect(await s.db.operation.count()).toBe(1);
    const taken = await createEnvironment(s.ctx, { ...input, idempotencyKey: randomUUID() });
    expect(taken).toMatchObject({ ok: false, field: "name" });
  });

  it("cancels a running operation and retries a failed one", async () => {
    const s = await setup();
    const ops = new ScriptedOperations({ durationMs: 60_000 });
    await startWorker(s, ops);
    await create(s.ctx, "gamma");
    await waitFor("the run to start", async () => ops.active === 1);
    const cancel = await cancelOperation(s.ctx, { name: "gamma", idempotencyKey: randomUUID() });
    expect(cancel.ok).toBe(true);
    const cancelled = await finished(s.db, "gamma");
    expect(cancelled.lastOperation?.status).toBe("cancelled");
    expect(cancelled.status).toBe("failed");

    ops.script = { durationMs: 100, failFor: new Set(["gamma"]) };
    expect((await retryOperation(s.ctx, { name: "gamma", idempotencyKey: randomUUID() })).ok).toBe(true);
    const failed = await finished(s.db, "gamma");
    expect(failed.lastOperation).toMatchObject({
      status: "failed",
      errorCode: "provider-error",
      error: "scripted failure",
    });

    ops.script = { durationMs: 100 };
    const retry = await retryOperation(s.ctx, { name: "gamma", idempotencyKey: randomUUID() });
    expect(retry.ok).toBe(true);
    const ready = await finished(s.db, "gamma");
    expect(ready.status).toBe("ready");
    expect(ready.lastOperation?.retryOfId).toBe(failed.lastOperationId);
  });

  it("every operation on an environment sends the cache and database options it was created with", async () => {
    const s = await setup();
    const ops = new ScriptedOperations({ durationMs: 100 });
    await startWorker(s, ops);
    const created = await createEnvironment(s.ctx, {
      name: "tiers",
      target: "local",
      frontendReplicas: 1,
      redisReplicas: 2,
      cacheKind: "elasticache",
      database: "postgres",
      dbStorageGb: 40,
      idempotencyKey: randomUUID(),
    });
    expect(created.ok).toBe(true);
    await finished(s.db, "tiers");
    const options = {
      cache: { kind: "elasticache", nodeType: "cache.t4g.micro" },
      database: {
        engine: "postgres",
        instanceClass: "db.t4g.micro",
        storageGb: 40,
        backupRetentionDays: 1,
        deletionProtection: false,
      },
    };
    expect((await envOf(s.db, "tiers")).options).toEqual(options);

    await scale(s.ctx, "tiers", 2, 3);
    await finished(s.db, "tiers");
    await previewScale(s.ctx, {
      name: "tiers",
      frontendReplicas: 3,
      redisReplicas: 3,
      idempotencyKey: randomUUID(),
    });
    await finished(s.db, "tiers");
    ops.script = { durationMs: 100, failFor: new Set(["tiers"]) };
    await scale(s.ctx, "tiers", 1, 3);
    await finished(s.db, "tiers");
    ops.script = { durationMs: 100 };
    await retryOperation(s.ctx, { name: "tiers", idempotencyKey: randomUUID() });
    await finished(s.db, "tiers");
    await destroyEnvironment(s.ctx, { name: "tiers", confirmation: "tiers", idempotencyKey: randomUUID() });
    await finished(s.db, "tiers");

    // What the operations were given: the spec with the same options every time.
    const specs = ops.calls.filter((c) => c.name === "tiers" && c.spec).map((c) => c.spec);
    expect(specs.map((sp) => [sp?.frontendReplicas, sp?.redisReplicas])).toEqual([
      [1, 2],
      [2, 3],
      [3, 3],
      [1, 3],
      [1, 3],
    ]);
    for (const sp of specs) expect(sp).toMatchObject(options);
    // And what was recorded on every operation, the destroy's included.
    const recorded = await s.db.operation.findMany({ where: { environment: { name: "tiers" } } });
    expect(recorded).toHaveLength(6);
    for (const op of recorded) expect(op.requestedConfig).toMatchObject(options);
  });

  it("a scale preview reports what would change and changes nothing", async () => {
    const s = await setup();
    const ops = new ScriptedOperations({ durationMs: 100 });
    await startWorker(s, ops);
    await create(s.ctx, "previewed", 2, 1);
    await finished(s.db, "previewed");
    const r = await previewScale(s.ctx, {
      name: "previewed",
      frontendReplicas: 4,
      redisReplicas: 2,
      idempotencyKey: randomUUID(),
    });
    expect(r.ok).toBe(true);
    const env = await finished(s.db, "previewed");
    expect(env.lastOperation).toMatchObject({ kind: "preview", status: "succeeded", changes: { create: 4 } });
    expect(env).toMatchObject({
      status: "ready",
      desiredFrontendReplicas: 2,
      currentFrontendReplicas: 2,
      currentRedisReplicas: 1,
    });
    expect(ops.calls.map((c) => c.method)).toEqual(["up", "preview"]);
  });

  it("re-sends a queued operation whose job ended without running it", async () => {
    const s = await setup();
    const result = await create(s.ctx, "orphan");
    const operationId = result.ok ? (result.operationId ?? "") : "";
    await s.boss.cancel(OPERATIONS_QUEUE, operationId); // the job is gone; the operation is still queued
    const ops = new ScriptedOperations({ durationMs: 100 });
    await startWorker(s, ops, { lostAfterSeconds: 1 });
    const env = await finished(s.db, "orphan");
    expect(env.status).toBe("ready");
    expect(env.lastOperation?.jobId).not.toBe(operationId);
    expect(ops.calls.map((c) => c.method)).toEqual(["up"]);
  });

  it("destroys an environment once its time-to-live has passed", async () => {
    const s = await setup();
    const ops = new ScriptedOperations({ durationMs: 100 });
    await startWorker(s, ops);
    await createEnvironment(s.ctx, {
      name: "short-lived",
      target: "local",
      frontendReplicas: 1,
      redisReplicas: 1,
      ttlHours: 1,
      idempotencyKey: randomUUID(),
    });
    const ready = await finished(s.db, "short-lived");
    expect(ready.status).toBe("ready");
    expect(ready.expiresAt?.getTime()).toBeGreaterThan(Date.now() + 3500_000);
    await s.db.environment.updateMany({
      where: { name: "short-lived" },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    await waitFor("the expired environment to be destroyed", async () => {
      const env = await envOf(s.db, "short-lived");
      return env.status === "destroyed" ? env : null;
    });
    const destroy = await s.db.operation.findFirst({ where: { kind: "destroy" } });
    expect(destroy?.requestedBy).toBe("time-to-live");
    expect(await s.db.operation.count({ where: { kind: "destroy" } })).toBe(1);
  });

  it("keeps at most the configured number of events per operation", async () => {
    const s = await setup();
    const ops = new ScriptedOperations({ durationMs: 200, logLines: 300 });
    await startWorker(s, ops, { eventsPerOperation: 60 });
    await create(s.ctx, "chatty");
    const env = await finished(s.db, "chatty");
    const count = await s.db.operationEvent.count({ where: { operationId: env.lastOperationId ?? "" } });
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThanOrEqual(60);
    const last = await s.db.operationEvent.findFirst({
      where: { operationId: env.lastOperationId ?? "" },
      orderBy: { id: "desc" },
    });
    expect(last?.message).toMatch(/create succeeded/);
  });

  it("a worker killed with SIGKILL mid-operation: the operation becomes interrupted, its lock is cleared, retry works", async () => {
    const s = await setup();
    await new DatabaseStackLocks(s.db).ensureTable();
    const scriptFile = path.join(pg.dir, "doomed-script.json");
    writeScript(scriptFile, { durationMs: null }); // its runs never finish by themselves
    const doomed = await startScriptedWorker({
      DATABASE_URL: s.url,
      WORKER_ID: "doomed-worker",
      SCRIPT_FILE: scriptFile,
      STACK_LOCKS: "1",
    });
    cleanups.push(() => doomed.stop());
    await create(s.ctx, "delta");
    await waitFor("the doomed worker to run the operation", async () =>
      doomed.output().includes("running up delta"),
    );
    const running = await envOf(s.db, "delta");
    expect(running.lastOperation).toMatchObject({ status: "running", workerId: "doomed-worker" });
    expect(running.status).toBe("provisioning");
    const locks = new DatabaseStackLocks(s.db);
    expect(await locks.holder("delta")).toBe("doomed-worker");
    const exited = new Promise((r) => doomed.child.once("exit", r));
    doomed.child.kill("SIGKILL");
    await exited;
    // The killed run left its stack lock behind: nothing but recovery would run on this stack again.
    expect(await locks.holder("delta")).toBe("doomed-worker");

    const ops = new ScriptedOperations({ durationMs: 100 }, locks, "second-worker");
    await startWorker(s, ops);
    const interrupted = await finished(s.db, "delta");
    expect(interrupted.lastOperation?.status).toBe("interrupted");
    expect(interrupted.lastOperation?.error).toMatch(/worker doomed-worker stopped/);
    expect(interrupted.status).toBe("failed");
    // The reaper marks the operation interrupted first, then clears the lock.
    const operationId = interrupted.lastOperationId ?? "";
    const notices = await waitFor("the notices", async () => {
      const rows = await s.db.operationEvent.findMany({ where: { operationId, type: "notice" } });
      return rows.some((n) => n.message.includes("stack lock cleared")) ? rows : null;
    });
    expect(notices.map((n) => n.message).join("\n")).toMatch(/no heartbeat since/);
    expect(ops.calls.filter((c) => c.method === "recover").map((c) => c.name)).toEqual(["delta"]);
    expect(await locks.holder("delta")).toBeUndefined();

    // Retry: the same create, run by the surviving worker on the unlocked stack, succeeds.
    const retry = await retryOperation(s.ctx, { name: "delta", idempotencyKey: randomUUID() });
    expect(retry).toMatchObject({ ok: true, message: "Create requested." });
    const ready = await finished(s.db, "delta");
    expect(ready.status).toBe("ready");
    expect(ready.lastOperation).toMatchObject({
      kind: "create",
      status: "succeeded",
      retryOfId: operationId,
      error: null,
    });
    expect(ready.lastOperation?.workerId).not.toBe("doomed-worker");
    expect(ready).toMatchObject({ currentFrontendReplicas: 2, currentRedisReplicas: 1 });
    expect(await locks.holder("delta")).toBeUndefined();
  }, 90_000);
});

/** A form as the browser submits it. */
const formOf = (fields: Record<string, string | number>) => {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.set(k, String(v));
  return form;
};

describe("the server actions (form handlers) answer impossible actions with a message", () => {
  const limits = {
    frontendReplicas: { min: 1, max: 10 },
    redisReplicas: { min: 1, max: 5 },
    awsRegions: [],
    maxTtlHours: 336,
    defaultTtlHours: 24,
    replicasPerEnvironment: 15,
  };

  it("scale while destroying, destroy twice, unknown environment, retry of a non-failed operation, cancel of nothing", async () => {
    const s = await setup();
    const ops = new ScriptedOperations({ durationMs: 100 });
    await startWorker(s, ops);
    const deps = { context: async () => s.ctx, limits };
    const action = { name: "eps", idempotencyKey: randomUUID() };

    const created = await forms.handleCreate(
      deps,
      formOf({
        name: "eps",
        target: "local",
        frontendReplicas: 2,
        redisReplicas: 1,
        idempotencyKey: randomUUID(),
      }),
    );
    expect(created).toMatchObject({ accepted: "eps", state: { status: "ok" } });
    expect((await finished(s.db, "eps")).status).toBe("ready");

    // Retry of a succeeded operation.
    const retry = await forms.handleRetry(deps, formOf({ ...action, idempotencyKey: randomUUID() }));
    expect(retry.accepted).toBeUndefined();
    expect(retry.state).toMatchObject({
      status: "error",
      message: "Only a failed, cancelled or interrupted operation can be retried.",
    });
    // Cancel when nothing runs.
    const cancel = await forms.handleCancel(deps, formOf({ ...action, idempotencyKey: randomUUID() }));
    expect(cancel.state.message).toBe("Nothing to cancel: no operation is queued or running.");

    ops.script = { durationMs: 100, holdFor: new Set(["eps"]) };
    const destroy = await forms.handleDestroy(
      deps,
      formOf({ ...action, confirmation: "eps", idempotencyKey: randomUUID() }),
    );
    expect(destroy).toMatchObject({
      accepted: "eps",
      state: { status: "ok", message: "Destroy requested." },
    });
    await waitFor("the destroy to run", async () => (await envOf(s.db, "eps")).status === "destroying");

    const twice = await forms.handleDestroy(
      deps,
      formOf({ ...action, confirmation: "eps", idempotencyKey: randomUUID() }),
    );
    expect(twice.state).toMatchObject({
      status: "error",
      message: "The environment is already being destroyed.",
    });
    const scaling = await forms.handleScale(
      deps,
      formOf({
        ...action,
        intent: "apply",
        frontendReplicas: 3,
        redisReplicas: 1,
        idempotencyKey: randomUUID(),
      }),
    );
    expect(scaling.state).toMatchObject({
      status: "error",
      message: "Cannot scale while the environment is being destroyed.",
      values: { frontendReplicas: "3" }, // what was asked is kept on the form
    });
    const preview = await forms.handleScale(
      deps,
      formOf({
        ...action,
        intent: "preview",
        frontendReplicas: 3,
        redisReplicas: 1,
        idempotencyKey: randomUUID(),
      }),
    );
    expect(preview.state.message).toBe("Cannot preview while the environment is being destroyed.");

    for (const handler of [forms.handleRefresh, forms.handleRetry, forms.handleCancel, forms.handleRemove]) {
      const unknown = await handler(deps, formOf({ name: "no-such-env", idempotencyKey: randomUUID() }));
      expect(unknown.state).toMatchObject({
        status: "error",
        message: "There is no environment named “no-such-env”. It may have been removed.",
      });
    }
    const unknownDestroy = await forms.handleDestroy(
      deps,
      formOf({ name: "no-such-env", confirmation: "no-such-env", idempotencyKey: randomUUID() }),
    );
    expect(unknownDestroy.state.message).toMatch(/no environment named “no-such-env”/);

    // Nothing of the refused requests was recorded: create and the one destroy only.
    const kinds = (await s.db.operation.findMany({ orderBy: { createdAt: "asc" } })).map((o) => o.kind);
    expect(kinds).toEqual(["create", "destroy"]);
  });

  it("field-level messages, one environment for a double submit, and a message when the database is down", async () => {
    const s = await setup();
    const deps = { context: async () => s.ctx, limits };
    const bad = await forms.handleCreate(
      deps,
      formOf({
        name: "Bad_Name",
        target: "local",
        frontendReplicas: 11,
        redisReplicas: 1,
        ttlHours: 0,
        idempotencyKey: randomUUID(),
      }),
    );
    expect(bad.state.status).toBe("error");
    expect(Object.keys(bad.state.fieldErrors ?? {}).sort()).toEqual(["frontendReplicas", "name", "ttlHours"]);
    expect(bad.state.values?.name).toBe("Bad_Name");

    const form = formOf({
      name: "once",
      target: "local",
      frontendReplicas: 2,
      redisReplicas: 1,
      idempotencyKey: randomUUID(),
    });
    const [a, b] = await Promise.all([forms.handleCreate(deps, form), forms.handleCreate(deps, form)]);
    expect([a.accepted, b.accepted]).toEqual(["once", "once"]);
    expect(await s.db.environment.count()).toBe(1);
    expect(await s.db.operation.count()).toBe(1);

    const down = await forms.handleCreate(
      { context: async () => Promise.reject(new Error("connection refused")), limits },
      formOf({
        name: "later",
        target: "local",
        frontendReplicas: 2,
        redisReplicas: 1,
        idempotencyKey: randomUUID(),
      }),
    );
    expect(down.state).toMatchObject({
      status: "error",
      message: expect.stringMatching(/could not record the request.*Nothing was changed/),
      values: { name: "later" },
    });
  });
});
