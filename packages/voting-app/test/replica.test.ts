import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { RunningApp } from "../src/app.js";
import { type RedisServer, startRedisServer } from "../src/dev/redis-server.js";
import { counts, eventually, startTestApp, vote } from "./helpers/app.js";

let primary: RedisServer;
let replica: RedisServer;
let app: RunningApp;
let replicaAdmin: Redis;

beforeAll(async () => {
  primary = await startRedisServer();
  replica = await startRedisServer({ replicaOf: primary.port });
  replicaAdmin = new Redis({ port: replica.port });
  // Wait for the initial sync before pointing the app at it.
  expect(
    await eventually(async () => (await replicaAdmin.info("replication")).includes("master_link_status:up")),
  ).toBe(true);
  app = await startTestApp({
    REDIS_PORT: String(primary.port),
    REDIS_READ_HOST: "127.0.0.1",
    REDIS_READ_PORT: String(replica.port),
  });
});
afterAll(async () => {
  replicaAdmin?.disconnect();
  await app?.close();
  await replica?.stop();
  await primary?.stop();
});

type Readiness = { checks: Record<string, { ok: boolean; error?: string }> };

async function readsOnReplica(): Promise<number> {
  const stats = await replicaAdmin.info("commandstats");
  return Number(/cmdstat_hmget:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

it("writes to the primary and reads tallies from the replica", async () => {
  const ready = (await (await fetch(`${app.url}/readyz`)).json()) as Readiness;
  expect(ready.checks).toEqual({ primary: { ok: true }, replica: { ok: true } });

  expect((await vote(app.url, "Cats")).status).toBe(201);
  expect((await vote(app.url, "Cats")).status).toBe(201);
  // Replication is asynchronous: the replica catches up within moments.
  expect(await eventually(async () => (await counts(app.url)).Cats === 2)).toBe(true);

  const before = await readsOnReplica();
  await counts(app.url);
  expect(await readsOnReplica()).toBe(before + 1);

  // Proof that the tally comes from the replica, not the primary: detach the replica and give it a
  // different value. The app now shows the replica's number while the primary still holds 2.
  await replicaAdmin.replicaof("NO", "ONE");
  await replicaAdmin.hset("voting-app:votes", "Cats", 40);
  expect(await counts(app.url)).toEqual({ Cats: 40, Dogs: 0 });
  const primaryAdmin = new Redis({ port: primary.port });
  try {
    expect(await primaryAdmin.hget("voting-app:votes", "Cats")).toBe("2");
  } finally {
    primaryAdmin.disconnect();
  }
});

it("keeps taking votes when the replica is down, and says it is not ready", async () => {
  await replica.kill();
  expect(await eventually(async () => (await fetch(`${app.url}/readyz`)).status === 503, 5000)).toBe(true);
  const ready = (await (await fetch(`${app.url}/readyz`)).json()) as Readiness;
  expect(ready.checks.primary).toEqual({ ok: true });
  expect(ready.checks.replica?.ok).toBe(false);
  expect((await vote(app.url, "Dogs")).status).toBe(201); // writes go to the primary
  expect((await fetch(`${app.url}/api/results`)).status).toBe(503); // reads need the replica
});
