import { afterAll, beforeAll, expect, it } from "vitest";
import { type RedisServer, startRedisServer } from "../src/dev/redis-server.js";
import { type AppProcess, counts, eventually, results, spawnApp, vote } from "./helpers/app.js";

let redis: RedisServer;
const apps: AppProcess[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  for (const name of ["replica-a", "replica-b"]) {
    const app = await spawnApp({
      REDIS_PORT: String(redis.port),
      REPLICA_NAME: name,
      VOTE_OPTIONS: "Red,Green,Blue",
    });
    apps.push(app);
  }
  for (const app of apps)
    expect(await eventually(async () => (await fetch(`${app.url}/readyz`)).ok)).toBe(true);
});
afterAll(async () => {
  await Promise.all(apps.map((a) => a.stop()));
  await redis?.stop();
});

/** Sends `total` votes with `concurrency` requests in flight at once; returns how many got 201. */
async function hammer(url: string, plan: string[], concurrency: number): Promise<number> {
  let next = 0;
  let ok = 0;
  const worker = async () => {
    for (let i = next++; i < plan.length; i = next++) {
      const res = await vote(url, plan[i] as string);
      if (res.status === 201) ok++;
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return ok;
}

it("two app processes voting concurrently into one Redis sum exactly", async () => {
  const [a, b] = apps as [AppProcess, AppProcess];
  // Different mixes per replica, so a lost or double-counted update shows in some option's count.
  const planA = Array.from({ length: 900 }, (_, i) => ["Red", "Green", "Blue"][i % 3] as string);
  const planB = Array.from({ length: 700 }, (_, i) => (i % 7 === 0 ? "Blue" : "Red"));
  const [okA, okB] = await Promise.all([hammer(a.url, planA, 25), hammer(b.url, planB, 25)]);
  expect(okA).toBe(planA.length);
  expect(okB).toBe(planB.length);

  const expected: Record<string, number> = { Red: 0, Green: 0, Blue: 0 };
  for (const o of [...planA, ...planB]) expected[o] = (expected[o] ?? 0) + 1;
  expect(await counts(a.url)).toEqual(expected);
  expect(await counts(b.url)).toEqual(expected);
  expect((await results(a.url)).total).toBe(1600);

  // Each page says which replica served it.
  expect((await results(a.url)).servedBy).toBe("replica-a");
  expect(await (await fetch(b.url)).text()).toContain('data-testid="served-by">replica-b<');
});
