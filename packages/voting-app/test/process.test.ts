import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type RedisServer, startRedisServer } from "../src/dev/redis-server.js";
import { counts, eventually, spawnApp, spawnMain, vote } from "./helpers/app.js";

/** These run the real entry point, `node dist/main.js`, as a deployment does. */
let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

describe("bad environment at start", () => {
  it.each([
    [{ PORT: "eighty" }, "PORT must be a whole number between 0 and 65535"],
    [{ PORT: "99999" }, "PORT must be a whole number between 0 and 65535"],
    [{ REDIS_PORT: "-1" }, "REDIS_PORT must be a whole number"],
    [{ VOTE_OPTIONS: "OnlyOne" }, "VOTE_OPTIONS must list between 2 and 12 options"],
    [{ VOTE_OPTIONS: "Cats,,Dogs" }, "VOTE_OPTIONS must not contain empty options"],
    [{ VOTE_OPTIONS: "Cats,Dogs,cats" }, 'option "cats" is listed twice'],
    [{ REDIS_TLS: "sometimes" }, "REDIS_TLS must be true or false"],
    [{ REDIS_READ_PORT: "6380" }, "REDIS_READ_PORT is set but REDIS_READ_HOST is not"],
    [{ HOST: "not a host" }, "HOST must be a host name or IP address"],
    [{ LOG_LEVEL: "verbose" }, "LOG_LEVEL must be one of"],
  ])("%o exits 1 with a clear message", async (env, message) => {
    const app = spawnMain({ REDIS_PORT: String(redis.port), ...env });
    const code = await app.exited;
    expect(code).toBe(1);
    expect(app.stderr()).toContain("voting-app: Invalid configuration:");
    expect(app.stderr()).toContain(message);
    expect(app.stdout()).toBe(""); // it never started
  });
});

describe("running process", () => {
  it("writes JSON logs carrying the request id", async () => {
    const app = await spawnApp({ REDIS_PORT: String(redis.port), LOG_LEVEL: "debug" });
    try {
      const res = await fetch(`${app.url}/healthz`, { headers: { "x-request-id": "trace-42" } });
      expect(res.status).toBe(200);
      expect(await eventually(async () => app.stdout().includes('"reqId":"trace-42"'))).toBe(true);
      const lines = app
        .stdout()
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const access = lines.find((l) => l.reqId === "trace-42");
      expect(access).toMatchObject({ msg: "request done", url: "/healthz", status: 200 });
      expect(lines.some((l) => l.msg === "voting app listening")).toBe(true);
    } finally {
      await app.stop();
    }
  });

  it("SIGTERM finishes the in-flight request, then exits 0 within a few seconds", async () => {
    const app = await spawnApp({ REDIS_PORT: String(redis.port), REDIS_KEY: "test:sigterm" });
    const admin = new Redis({ port: redis.port, lazyConnect: true });
    try {
      await eventually(async () => (await fetch(`${app.url}/readyz`)).ok);
      // Hold writes in Redis so the vote is still in flight when the signal arrives.
      await admin.connect();
      await admin.call("CLIENT", "PAUSE", "700", "WRITE");
      const inFlight = vote(app.url, "Cats");
      await new Promise((r) => setTimeout(r, 200));
      const signalledAt = Date.now();
      app.child.kill("SIGTERM");
      const res = await inFlight;
      expect(res.status).toBe(201);
      expect(await app.exited).toBe(0);
      expect(Date.now() - signalledAt).toBeLessThan(5000);
      expect(await admin.hget("test:sigterm", "Cats")).toBe("1");
      // No longer accepting connections.
      await expect(fetch(`${app.url}/healthz`)).rejects.toThrow();
    } finally {
      admin.disconnect();
      await app.stop();
    }
  });

  it("starts while Redis is down, reports 503, and connects when Redis comes up", async () => {
    const port = await freePort();
    const app = await spawnApp({ REDIS_PORT: String(port) });
    let late: RedisServer | undefined;
    try {
      expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${app.url}/readyz`)).status).toBe(503);
      const started = Date.now();
      expect((await vote(app.url, "Dogs")).status).toBe(503);
      expect(Date.now() - started).toBeLessThan(1500); // fails fast, no hang
      const page = await fetch(app.url);
      expect(page.status).toBe(503);
      expect(await page.text()).toMatch(/data-testid="store-unavailable">The vote store is unavailable/);

      // Several reconnect attempts have failed by now; the outage is logged once, not per attempt.
      await new Promise((r) => setTimeout(r, 1000));
      expect(app.stdout().match(/redis connection lost/g)).toHaveLength(1);

      late = await startRedisServer({ port });
      expect(await eventually(async () => (await fetch(`${app.url}/readyz`)).ok, 10_000)).toBe(true);
      expect(app.stdout()).toContain('"role":"primary","msg":"redis connection ready"');
      expect((await vote(app.url, "Dogs")).status).toBe(201);
      expect(await counts(app.url)).toEqual({ Cats: 0, Dogs: 1 });
    } finally {
      await app.stop();
      await late?.stop();
    }
  });
});

describe("port already taken", () => {
  it("exits 1 with a clear message", async () => {
    const first = await spawnApp({ REDIS_PORT: String(redis.port) });
    try {
      const port = new URL(first.url).port;
      const second = spawnMain({ PORT: port, HOST: "127.0.0.1", REDIS_PORT: String(redis.port) });
      expect(await second.exited).toBe(1);
      expect(second.stderr()).toContain("voting-app: failed to start: listen EADDRINUSE");
    } finally {
      await first.stop();
    }
  });
});
