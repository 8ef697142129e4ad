import { afterAll, beforeAll, expect, it } from "vitest";
import type { RunningApp } from "../src/app.js";
import { type RedisServer, startRedisServer } from "../src/dev/redis-server.js";
import { counts, eventually, startTestApp, vote } from "./helpers/app.js";

let redis: RedisServer;
let app: RunningApp;

beforeAll(async () => {
  redis = await startRedisServer();
  app = await startTestApp({ REDIS_PORT: String(redis.port) });
});
afterAll(async () => {
  await app?.close();
  await redis?.stop();
});

it("keeps serving through a Redis outage and recovers on its own", async () => {
  expect((await vote(app.url, "Cats")).status).toBe(201);

  await redis.kill(); // crash, mid-test

  // Readiness drops, liveness stays.
  expect(await eventually(async () => (await fetch(`${app.url}/readyz`)).status === 503, 5000)).toBe(true);
  expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
  const ready = (await (await fetch(`${app.url}/readyz`)).json()) as { checks: { primary: { ok: boolean } } };
  expect(ready.checks.primary.ok).toBe(false);

  // Votes fail fast with 503 (not a hang), in the API and the no-JS form.
  const started = Date.now();
  const res = await vote(app.url, "Cats");
  expect(res.status).toBe(503);
  expect(((await res.json()) as { error: string }).error).toBe("store_unavailable");
  expect(Date.now() - started).toBeLessThan(1500);
  expect((await fetch(`${app.url}/api/results`)).status).toBe(503);
  const form = await fetch(`${app.url}/vote`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "option=Cats",
    redirect: "manual",
  });
  expect(form.status).toBe(503);
  expect(await form.text()).toContain("Your vote could not be counted");

  // The page says so.
  const page = await fetch(app.url);
  expect(page.status).toBe(503);
  const html = await page.text();
  expect(html).toMatch(/data-testid="store-unavailable">/);
  expect(html).not.toMatch(/data-testid="store-unavailable" hidden/);
  const metrics = await (await fetch(`${app.url}/metrics`)).text();
  expect(metrics).toContain('vote_store_up{role="primary"} 0');

  // Redis comes back on the same port (empty: it has no persistence here).
  redis = await startRedisServer({ port: redis.port });
  expect(await eventually(async () => (await fetch(`${app.url}/readyz`)).ok, 10_000)).toBe(true);
  expect((await vote(app.url, "Dogs")).status).toBe(201);
  expect(await counts(app.url)).toEqual({ Cats: 0, Dogs: 1 });
  const after = await (await fetch(app.url)).text();
  expect(after).toMatch(/data-testid="store-unavailable" hidden/);
});
