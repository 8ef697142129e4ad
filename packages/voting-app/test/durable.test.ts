import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../src/app.js";
import { type RedisServer, startRedisServer } from "../src/dev/redis-server.js";
import { counts, eventually, sleep, spawnApp, startTestApp, vote } from "./helpers/app.js";
import { startTestDatabase, type TestDatabase } from "./helpers/postgres.js";

/**
 * Durable mode against a real PostgreSQL and real redis-servers: every acknowledged vote ends up in the
 * database, the Redis tally is rebuilt exactly when Redis loses it (also while replicas keep voting), a
 * database outage is absorbed by a bounded backlog, and a graceful stop writes the backlog first.
 */
let db: TestDatabase;
const redisServers: RedisServer[] = [];
const apps: RunningApp[] = [];

beforeAll(async () => {
  db = await startTestDatabase();
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  await Promise.all(redisServers.splice(0).map((r) => r.stop()));
});
afterAll(async () => {
  await db?.destroy();
});

async function redisServer(options: Parameters<typeof startRedisServer>[0] = {}): Promise<RedisServer> {
  const server = await startRedisServer(options);
  redisServers.push(server);
  return server;
}

/** An app in this process in durable mode (each test starts from fresh tables and its own Redis). */
async function durableApp(redisPort: number, env: Record<string, string> = {}): Promise<RunningApp> {
  const app = await startTestApp({
    REDIS_PORT: String(redisPort),
    DATABASE_URL: db.url,
    DATABASE_FLUSH_INTERVAL_MS: "20",
    ...env,
  });
  apps.push(app);
  return app;
}

interface DatabaseCheck {
  ok: boolean;
  backlog: number;
  backlogMax: number;
  error?: string;
}

async function databaseCheck(url: string): Promise<DatabaseCheck> {
  const body = (await (await fetch(`${url}/readyz`)).json()) as { checks: { database: DatabaseCheck } };
  return body.checks.database;
}

/** Every app's backlog is written. */
async function drained(...urls: string[]): Promise<boolean> {
  return eventually(async () => {
    const checks = await Promise.all(urls.map(databaseCheck));
    return checks.every((c) => c.ok && c.backlog === 0);
  }, 15_000);
}

/** Fresh tables for a test: the app's migrations create them again at its start. */
async function freshDatabase(): Promise<void> {
  await db.query("DROP SCHEMA IF EXISTS voting_app CASCADE");
}

describe("durable mode", () => {
  it("creates its tables at start (several replicas at once) and records every vote", async () => {
    await freshDatabase();
    const redis = await redisServer();
    const [a, b] = await Promise.all([durableApp(redis.port), durableApp(redis.port)]);
    expect(
      await eventually(
        async () => (await db.query("SELECT version FROM voting_app.migrations")).length === 1,
      ),
    ).toBe(true);
    for (let i = 0; i < 100; i++) {
      const res = await vote(i % 2 === 0 ? a.url : b.url, i % 3 === 0 ? "Cats" : "Dogs");
      expect(res.status).toBe(201);
    }
    expect(await drained(a.url, b.url)).toBe(true);
    expect(await db.totals()).toEqual({ Cats: 34, Dogs: 66 });
    expect(await db.recorded()).toBe(100);
    // Two writers (one per replica), each vote once.
    const writers = await db.query<{ writer: string; n: string }>(
      "SELECT writer, count(*) AS n FROM voting_app.votes GROUP BY writer",
    );
    expect(writers.map((w) => Number(w.n)).sort()).toEqual([50, 50]);
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    expect(metrics).toContain("vote_database_up 1");
    expect(metrics).toContain("vote_database_written_votes_total 50");
    expect(metrics).toContain("vote_backlog 0");
  });

  it("rebuilds the tally exactly when Redis loses it, while two replicas keep voting", async () => {
    await freshDatabase();
    const redis = await redisServer();
    const [a, b] = await Promise.all([durableApp(redis.port), durableApp(redis.port)]);
    const admin = new Redis({ port: redis.port });
    const accepted = { Cats: 0, Dogs: 0 };
    const refusedStatuses: number[] = [];
    let stop = false;
    // Redis "restarts empty" three times while 8 clients vote through both replicas: after the 100th, 200th and
    // 300th acknowledged vote (by count, not time, so a slow machine tests the same thing), then 100 more.
    const done = () => accepted.Cats + accepted.Dogs;
    const wiper = (async () => {
      for (let i = 1; i <= 3; i++) {
        while (done() < i * 100) await sleep(5);
        await admin.flushall();
      }
      while (done() < 400) await sleep(5);
      stop = true;
    })();
    const client = async (n: number) => {
      for (let i = 0; !stop; i++) {
        const option = (n + i) % 3 === 0 ? ("Cats" as const) : ("Dogs" as const);
        const res = await vote(n % 2 === 0 ? a.url : b.url, option);
        if (res.status === 201) accepted[option]++;
        else refusedStatuses.push(res.status);
      }
    };
    await Promise.all([wiper, ...Array.from({ length: 8 }, (_, n) => client(n))]);
    admin.disconnect();
    expect(accepted.Cats + accepted.Dogs).toBeGreaterThanOrEqual(400);
    // A vote arriving while the tally is missing waits (up to 3 s) for the rebuild. On a machine loaded far beyond
    // its cores a few may still time out: then they are refused with 503 and counted nowhere, which the exact
    // totals below prove.
    expect(refusedStatuses.every((s) => s === 503)).toBe(true);
    expect(refusedStatuses.length).toBeLessThan(done() / 20);
    expect(await drained(a.url, b.url)).toBe(true);
    // Exact, once the last batches are written (and, should adding a batch to the tally have failed, once the
    // forced rebuild that follows has run).
    const same = (x: Record<string, number>) => JSON.stringify(x) === JSON.stringify(accepted);
    expect(await eventually(async () => same(await db.totals()), 10_000)).toBe(true);
    expect(await eventually(async () => same(await counts(a.url)) && same(await counts(b.url)), 10_000)).toBe(
      true,
    );
    expect(await db.totals()).toEqual(accepted);
    expect(await counts(a.url)).toEqual(accepted);
    const rebuilds = await db.query("SELECT id FROM voting_app.tally_epochs WHERE kind = 'rebuild'");
    expect(rebuilds.length).toBeGreaterThanOrEqual(4); // the first build + one per wipe
  });

  it("rebuilds after Redis is killed and comes back empty, and reads without a vote trigger it", async () => {
    await freshDatabase();
    let redis = await redisServer();
    const app = await durableApp(redis.port);
    for (let i = 0; i < 30; i++) expect((await vote(app.url, "Cats")).status).toBe(201);
    await redis.kill();
    redis = await redisServer({ port: redis.port });
    expect(await eventually(async () => (await fetch(`${app.url}/readyz`)).ok)).toBe(true);
    // No vote since: reading the results finds the tally missing and rebuilds it.
    expect(await counts(app.url)).toEqual({ Cats: 30, Dogs: 0 });
  });

  it("rebuilds when Redis restarts with its data but without its last writes (new run id)", async () => {
    await freshDatabase();
    const dir = mkdtempSync(path.join(os.tmpdir(), "voting-aof-"));
    try {
      let redis = await redisServer({ dir, appendOnly: true });
      const app = await durableApp(redis.port);
      for (let i = 0; i < 20; i++) expect((await vote(app.url, "Dogs")).status).toBe(201);
      expect(await drained(app.url)).toBe(true);
      // What an AOF fsynced once a second (or a failed-over replica) can look like: the epoch is there, the
      // last writes are not.
      const admin = new Redis({ port: redis.port });
      await admin.hincrby("voting-app:votes", "Dogs", -5);
      admin.disconnect();
      expect((await counts(app.url)).Dogs).toBe(15);
      await redis.stop();
      redisServers.splice(redisServers.indexOf(redis), 1);
      redis = await redisServer({ dir, appendOnly: true, port: redis.port });
      expect(await eventually(async () => (await counts(app.url)).Dogs === 20)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("adopts the counts of a Redis tally that predates the database", async () => {
    await freshDatabase();
    const redis = await redisServer();
    const admin = new Redis({ port: redis.port });
    await admin.hset("voting-app:votes", { Cats: 7, Dogs: 3 });
    admin.disconnect();
    const app = await durableApp(redis.port);
    expect((await vote(app.url, "Cats")).status).toBe(201);
    expect(await counts(app.url)).toEqual({ Cats: 8, Dogs: 3 });
    expect(await drained(app.url)).toBe(true);
    expect(await db.totals()).toEqual({ Cats: 8, Dogs: 3 });
  });

  it("resets Redis and the database as one round; votes counted before it do not come back", async () => {
    await freshDatabase();
    const redis = await redisServer();
    // b writes slowly, so its votes are still in its backlog when a resets.
    const [a, b] = await Promise.all([
      durableApp(redis.port, { ALLOW_RESET: "true" }),
      durableApp(redis.port, { DATABASE_FLUSH_INTERVAL_MS: "1500" }),
    ]);
    for (let i = 0; i < 10; i++) expect((await vote(b.url, "Cats")).status).toBe(201);
    expect((await databaseCheck(b.url)).backlog).toBe(10);
    const reset = await fetch(`${a.url}/api/votes`, { method: "DELETE" });
    expect(reset.status).toBe(200);
    expect((await vote(a.url, "Dogs")).status).toBe(201);
    expect(await drained(a.url, b.url)).toBe(true);
    expect(await counts(a.url)).toEqual({ Cats: 0, Dogs: 1 });
    expect(await db.totals()).toEqual({ Dogs: 1 });
    expect(await db.recorded()).toBe(11); // history keeps the votes from before the reset
  });

  it("keeps counting through a database outage, with a bounded backlog shown in metrics and /readyz", async () => {
    await freshDatabase();
    const redis = await redisServer();
    const app = await durableApp(redis.port, { DATABASE_BACKLOG_MAX: "150" });
    expect((await vote(app.url, "Cats")).status).toBe(201);
    expect(await drained(app.url)).toBe(true);

    await db.stop();
    try {
      for (let i = 0; i < 100; i++) expect((await vote(app.url, "Dogs")).status).toBe(201);
      expect(await counts(app.url)).toEqual({ Cats: 1, Dogs: 100 });
      const ready = await fetch(`${app.url}/readyz`);
      expect(ready.status).toBe(200); // votes and results still work
      const check = await databaseCheck(app.url);
      expect(check).toMatchObject({ ok: false, backlog: 100, backlogMax: 150 });
      expect(check.error).toBeTruthy();
      let metrics = await (await fetch(`${app.url}/metrics`)).text();
      expect(metrics).toContain("vote_backlog 100");
      expect(metrics).toContain("vote_backlog_max 150");
      expect(metrics).toContain("vote_database_up 0");

      // The bound: 50 more fit, then votes are refused (and not counted) until the database is back.
      const statuses: number[] = [];
      for (let i = 0; i < 60; i++) statuses.push((await vote(app.url, "Dogs")).status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(50);
      expect(statuses.slice(50)).toEqual(Array(10).fill(503));
      const refusedBody = (await (await vote(app.url, "Dogs")).json()) as { error: string };
      expect(refusedBody.error).toBe("backlog_full");
      const form = await fetch(`${app.url}/vote`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "option=Cats",
        redirect: "manual",
      });
      expect(form.status).toBe(503);
      expect(await form.text()).toContain("too many votes are waiting to be saved");
      metrics = await (await fetch(`${app.url}/metrics`)).text();
      expect(metrics).toContain('votes_rejected_total{reason="backlog_full"} 12');
      expect(await counts(app.url)).toEqual({ Cats: 1, Dogs: 150 });
    } finally {
      await db.start();
    }
    expect(await drained(app.url)).toBe(true);
    expect(await db.totals()).toEqual({ Cats: 1, Dogs: 150 });
    expect((await vote(app.url, "Dogs")).status).toBe(201);
  });

  it("answers 503 while the tally is missing and the database is down, and recovers when it is back", async () => {
    await freshDatabase();
    const redis = await redisServer();
    const app = await durableApp(redis.port);
    expect((await vote(app.url, "Cats")).status).toBe(201);
    expect(await drained(app.url)).toBe(true);
    await db.stop();
    try {
      const admin = new Redis({ port: redis.port });
      await admin.flushall();
      admin.disconnect();
      const res = await vote(app.url, "Cats");
      expect(res.status).toBe(503);
      expect((await fetch(`${app.url}/api/results`)).status).toBe(503);
    } finally {
      await db.start();
    }
    expect(await eventually(async () => (await vote(app.url, "Cats")).status === 201, 15_000)).toBe(true);
    expect(await counts(app.url)).toEqual({ Cats: 2, Dogs: 0 });
  });
});

describe("graceful stop", () => {
  it("writes the backlog before the process exits", async () => {
    await freshDatabase();
    const redis = await redisServer();
    // A long flush interval keeps the votes in the backlog until SIGTERM.
    const app = await spawnApp({
      REDIS_PORT: String(redis.port),
      DATABASE_URL: db.url,
      DATABASE_FLUSH_INTERVAL_MS: "10000",
    });
    try {
      expect(await eventually(async () => (await fetch(`${app.url}/readyz`)).ok)).toBe(true);
      for (let i = 0; i < 50; i++) expect((await vote(app.url, "Cats")).status).toBe(201);
      expect((await databaseCheck(app.url)).backlog).toBeGreaterThan(0);
      app.child.kill("SIGTERM");
      expect(await app.exited).toBe(0);
      expect(await db.totals()).toEqual({ Cats: 50 });
    } finally {
      await app.stop();
    }
  });

  it("reports the votes it could not write when the database stays away", async () => {
    await freshDatabase();
    const redis = await redisServer();
    const app = await spawnApp({
      REDIS_PORT: String(redis.port),
      DATABASE_URL: db.url,
      DATABASE_FLUSH_INTERVAL_MS: "10000",
    });
    try {
      expect(await eventually(async () => (await fetch(`${app.url}/readyz`)).ok)).toBe(true);
      expect((await vote(app.url, "Cats")).status).toBe(201);
      await db.stop();
      for (let i = 0; i < 4; i++) expect((await vote(app.url, "Dogs")).status).toBe(201);
      app.child.kill("SIGTERM");
      expect(await app.exited).toBe(0);
      expect(app.stdout()).toMatch(
        /"votes":5,.*"msg":"stopping with acknowledged votes the database did not take/,
      );
    } finally {
      await app.stop();
      await db.start();
    }
  });
});
