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
  replicaAdmin = admin(replica.port);
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

/** A test-side Redis connection; errors while a server is deliberately down are expected. */
function admin(port: number): Redis {
  const client = new Redis({ port, maxRetriesPerRequest: 1 });
  client.on("error", () => {});
  return client;
}

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

it("falls back to the primary for tallies while the replica is down, and stays ready", async () => {
  await replica.kill();
  // Readiness keeps 200 (the primary answers) but reports the replica's failure.
  expect(
    await eventually(async () => {
      const r = (await (await fetch(`${app.url}/readyz`)).json()) as Readiness;
      return r.checks.replica?.ok === false;
    }, 5000),
  ).toBe(true);
  const ready = await fetch(`${app.url}/readyz`);
  expect(ready.status).toBe(200);
  expect(((await ready.json()) as Readiness).checks.primary).toEqual({ ok: true });
  expect(await (await fetch(`${app.url}/metrics`)).text()).toContain('vote_store_up{role="replica"} 0');

  expect((await vote(app.url, "Dogs")).status).toBe(201);
  // The primary holds Cats 2 (the replica's diverged 40 is gone with it) and the new Dogs vote.
  expect(await counts(app.url)).toEqual({ Cats: 2, Dogs: 1 });

  // The replica returns (empty, and re-attached to the primary): reads move back to it once synced.
  replica = await startRedisServer({ port: replica.port, replicaOf: primary.port });
  replicaAdmin.disconnect();
  replicaAdmin = admin(replica.port);
  expect(
    await eventually(async () => (await replicaAdmin.info("replication")).includes("master_link_status:up")),
  ).toBe(true);
  expect(
    await eventually(async () => {
      await counts(app.url);
      return (await readsOnReplica()) > 0;
    }),
  ).toBe(true);
  const before = await readsOnReplica();
  expect(await counts(app.url)).toEqual({ Cats: 2, Dogs: 1 });
  expect(await readsOnReplica()).toBe(before + 1);
});
