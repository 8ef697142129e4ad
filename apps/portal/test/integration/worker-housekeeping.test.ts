// What the workers do besides running operations, against a real PostgreSQL: time-to-live destroys, the
// event sink when the database refuses writes, and the pruning of old operations' events.
import { createHash, randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  cancelOperation,
  refreshEnvironment,
  scaleEnvironment,
} from "../../src/features/environments/commands";
import { EventSink } from "../../src/server/worker/event-sink";
import { EXPIRED_MESSAGE } from "../../src/shared/status";
import { startTestDatabaseServer, type TestDatabaseServer, waitFor } from "../helpers/database";
import { ScriptedOperations } from "../helpers/scripted-operations";
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

/** The key the expiry used to derive from a name: anyone could send it first and disarm the expiry. */
function derivedKey(text: string): string {
  const h = createHash("sha256").update(text).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

describe("time-to-live", () => {
  it("destroys expired environments oldest first; a failed one blocks nothing and returns after a pause; a cancelled one fires again; no request disarms it", async () => {
    const s = await setup(pg, cleanups);
    const ops = new ScriptedOperations({ durationMs: 100 });
    await startWorker(s, ops, cleanups, { concurrency: 1 });
    // Created in the opposite order of their expiry.
    const names = ["exp-d", "exp-c", "exp-b", "exp-a"];
    for (const name of names) await create(s.ctx, name, { ttlHours: 1 });
    for (const name of names) expect((await finished(s.db, name)).status).toBe("ready");
    // A request made with the key the expiry used to use.
    const refresh = await refreshEnvironment(s.ctx, {
      name: "exp-a",
      idempotencyKey: derivedKey("ttl-destroy:exp-a"),
    });
    expect(refresh.ok).toBe(true);
    await finished(s.db, "exp-a");

    ops.script = { durationMs: 100, failFor: new Set(["exp-b"]), holdFor: new Set(["exp-d"]) };
    await s.db.$executeRaw`
      UPDATE environments SET expires_at = now() - make_interval(hours => CASE name
        WHEN 'exp-a' THEN 4 WHEN 'exp-b' THEN 3 WHEN 'exp-c' THEN 2 ELSE 1 END)`;

    for (const name of ["exp-a", "exp-c"]) {
      await waitFor(`${name} to be destroyed`, async () => (await envOf(s.db, name)).status === "destroyed");
    }
    const b = await finished(s.db, "exp-b");
    expect(b.lastOperation).toMatchObject({ kind: "destroy", status: "failed", requestedBy: "time-to-live" });
    // Held at its last step (3 of 4 done).
    await waitFor("exp-d's destroy to be held", async () => {
      const d = await envOf(s.db, "exp-d");
      return d.status === "destroying" && d.lastOperation?.progressDone === 3;
    });
    const destroys = () => ops.calls.filter((c) => c.method === "destroy").map((c) => c.name);
    expect(destroys()).toEqual(["exp-a", "exp-b", "exp-c", "exp-d"]);

    // Nothing keeps an expired environment alive: no scale, refresh or retry of anything but its destroy.
    const scale = await scaleEnvironment(s.ctx, {
      name: "exp-b",
      frontendReplicas: 3,
      redisReplicas: 1,
      idempotencyKey: randomUUID(),
    });
    expect(scale).toMatchObject({ ok: false, code: "refused", message: EXPIRED_MESSAGE });
    expect(await refreshEnvironment(s.ctx, { name: "exp-b", idempotencyKey: randomUUID() })).toMatchObject({
      ok: false,
      message: EXPIRED_MESSAGE,
    });

    // A cancelled expiry destroy is requested again (and this time not held).
    expect((await cancelOperation(s.ctx, { name: "exp-d", idempotencyKey: randomUUID() })).ok).toBe(true);
    ops.script = { durationMs: 100, failFor: new Set(["exp-b"]) };
    await waitFor("exp-d to be destroyed", async () => (await envOf(s.db, "exp-d")).status === "destroyed");
    const dOps = await s.db.operation.findMany({
      where: { environment: { name: "exp-d" }, kind: "destroy" },
      orderBy: { createdAt: "asc" },
    });
    expect(dOps.map((o) => o.status)).toEqual(["cancelled", "succeeded"]);

    // The failed one is not retried in a tight loop…
    await sleep(3000);
    expect(destroys().filter((n) => n === "exp-b")).toHaveLength(1);
    // …but once its pause (1 minute after the first failure) is over.
    ops.script = { durationMs: 100 };
    await s.db.$executeRaw`
      UPDATE operations SET finished_at = now() - interval '2 minutes'
      WHERE kind = 'destroy' AND status = 'failed'`;
    await waitFor("exp-b to be destroyed", async () => (await envOf(s.db, "exp-b")).status === "destroyed");
    expect(destroys().filter((n) => n === "exp-b")).toHaveLength(2);
    expect(
      await s.db.operation.count({ where: { kind: "destroy", requestedBy: { not: "time-to-live" } } }),
    ).toBe(0);
  }, 90_000);
});

describe("event sink", () => {
  async function queuedOperation(s: Awaited<ReturnType<typeof setup>>, name: string): Promise<string> {
    const r = await create(s.ctx, name);
    if (!r.ok || !r.operationId) throw new Error(r.message);
    return r.operationId;
  }

  it("keeps what it could not write and writes it once the database takes it again", async () => {
    const s = await setup(pg, cleanups);
    const operationId = await queuedOperation(s, "flaky");
    const sink = new EventSink(s.db, operationId, { maxEvents: 1000, flushEveryMs: 100 });
    // The database refuses every event from now on (as during an outage).
    await s.db.$executeRawUnsafe(
      "ALTER TABLE operation_events ADD CONSTRAINT refuse_all CHECK (false) NOT VALID",
    );
    for (let i = 0; i < 5; i++) sink.push({ type: "log", line: `line ${i}` });
    sink.push({ type: "progress", done: 3, expected: 9, percent: 33 });
    await sleep(600); // several failed flushes
    expect(await s.db.operationEvent.count({ where: { operationId } })).toBe(0);
    expect(sink.pending).toBe(5);
    await s.db.$executeRawUnsafe("ALTER TABLE operation_events DROP CONSTRAINT refuse_all");
    sink.push({ type: "log", line: "line 5" });
    expect(await sink.close()).toBe(0);
    const stored = await s.db.operationEvent.findMany({ where: { operationId }, orderBy: { id: "asc" } });
    expect(stored.map((e) => e.message)).toEqual([
      "line 0",
      "line 1",
      "line 2",
      "line 3",
      "line 4",
      "line 5",
    ]);
    const op = await s.db.operation.findUniqueOrThrow({ where: { id: operationId } });
    expect([op.progressDone, op.progressExpected]).toEqual([3, 9]);
  });

  it("truncates notes as it truncates the events of a run", async () => {
    const s = await setup(pg, cleanups);
    const operationId = await queuedOperation(s, "verbose");
    const sink = new EventSink(s.db, operationId, { maxEvents: 1000 });
    sink.note("status", `create failed: ${"x".repeat(100_000)}`, "error");
    sink.push({ type: "diagnostic", severity: "error", message: "y".repeat(50_000) });
    await sink.close();
    const stored = await s.db.operationEvent.findMany({ where: { operationId }, orderBy: { id: "asc" } });
    expect(stored).toHaveLength(2);
    for (const e of stored) {
      expect(e.message.length).toBeLessThanOrEqual(4000);
      expect(e.message).toMatch(/… \(\d+ more characters\)$/);
    }
    expect(stored[0]?.message.startsWith("create failed: xxx")).toBe(true);
  });
});

describe("retention", () => {
  it("prunes old operations' events in batches, leaving recent and running operations' events", async () => {
    const s = await setup(pg, cleanups);
    for (const name of ["old-one", "recent-one", "busy-one"]) await create(s.ctx, name);
    await s.db.$executeRaw`
      UPDATE operations o SET status = 'succeeded', started_at = now() - interval '30 days',
        finished_at = now() - interval '30 days'
      FROM environments e WHERE e.id = o.environment_id AND e.name = 'old-one'`;
    await s.db.$executeRaw`
      UPDATE operations o SET status = 'succeeded', started_at = now() - interval '1 hour', finished_at = now()
      FROM environments e WHERE e.id = o.environment_id AND e.name = 'recent-one'`;
    await s.db.$executeRaw`
      UPDATE operations o SET status = 'running', started_at = now(), heartbeat_at = now() + interval '1 day',
        worker_id = 'elsewhere'
      FROM environments e WHERE e.id = o.environment_id AND e.name = 'busy-one'`;
    const seed = (name: string, n: number) => s.db.$executeRaw`
      INSERT INTO operation_events (operation_id, type, message)
      SELECT o.id, 'log', 'line ' || i FROM operations o JOIN environments e ON e.id = o.environment_id,
        generate_series(1, ${n}) i WHERE e.name = ${name}`;
    await seed("old-one", 12_000);
    await seed("recent-one", 100);
    await seed("busy-one", 50);
    // Every DELETE statement on the events table records how many rows it removed.
    await s.db.$executeRawUnsafe("CREATE TABLE prune_log (at timestamptz DEFAULT clock_timestamp(), n int)");
    await s.db.$executeRawUnsafe(`
      CREATE FUNCTION log_prune() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO prune_log (n) SELECT count(*) FROM old_rows; RETURN NULL; END $$`);
    await s.db.$executeRawUnsafe(`
      CREATE TRIGGER prune_log AFTER DELETE ON operation_events REFERENCING OLD TABLE AS old_rows
      FOR EACH STATEMENT EXECUTE FUNCTION log_prune()`);

    // A worker prunes when it starts (retention: 1 day here).
    await startWorker(s, new ScriptedOperations({ durationMs: 100 }), cleanups, { eventRetentionDays: 1 });
    const count = (name: string) =>
      s.db.operationEvent.count({ where: { operation: { environment: { name } } } });
    await waitFor("the old events to be pruned", async () => (await count("old-one")) === 0, 30_000);
    expect(await count("recent-one")).toBe(100);
    expect(await count("busy-one")).toBe(50);
    const batches = await s.db.$queryRaw<{ n: number }[]>`SELECT n FROM prune_log WHERE n > 0 ORDER BY at`;
    expect(batches.reduce((sum, b) => sum + b.n, 0)).toBe(12_000);
    expect(batches.length).toBeGreaterThanOrEqual(3);
    for (const b of batches) expect(b.n).toBeLessThanOrEqual(5000);
  }, 60_000);
});
