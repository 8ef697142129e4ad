// Many viewers of one running operation, over HTTP against the web process as `npm start` runs it
// (PORTAL_ROLE=web, a real PostgreSQL): 200 open event streams cost the database one poller's reads, a
// stream past EVENT_STREAMS_MAX is refused with 503 and Retry-After, the streams end together when the
// operation does, and the metrics (bearer token; and the start command's listener) count them.
import { randomUUID } from "node:crypto";
import { createDbClient, type PrismaClient } from "@platform/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEnvironment } from "../../src/features/environments/commands";
import { startQueue } from "../../src/server/queue";
import { makePrincipal } from "../../src/shared/access";
import { startTestDatabaseServer, type TestDatabaseServer, waitFor } from "../helpers/database";
import { type PortalProcess, startPortal } from "../helpers/portal-process";

const TOKEN = "metrics-token-for-the-test-0123";
let pg: TestDatabaseServer;
let portal: PortalProcess;
let db: PrismaClient;
let operationId: string;

interface Stream {
  status: number;
  text: () => string;
  done: Promise<void>;
  abort: () => void;
}

async function openStream(url: string): Promise<Stream> {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal });
  let text = "";
  const done = (async () => {
    if (!res.body) return;
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) return;
        text += decoder.decode(value, { stream: true });
      }
    } catch {
      // aborted
    }
  })();
  if (res.status !== 200) {
    text = await res.text().catch(() => "");
  }
  return { status: res.status, text: () => text, done, abort: () => controller.abort() };
}

const health = async () =>
  (await (await fetch(`${portal.url}/api/health`)).json()) as { status: string; eventStreams: number };

async function transactions(): Promise<number> {
  const [row] = await db.$queryRaw<{ n: bigint }[]>`
    SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()`;
  return Number(row?.n ?? 0);
}

beforeAll(async () => {
  pg = await startTestDatabaseServer();
  const url = await pg.fresh();
  db = createDbClient(url, { poolSize: 2 });
  const boss = await startQueue(url, { role: "sender" });
  const r = await createEnvironment(
    { db, boss, principal: makePrincipal("viewer@example.com", "admin") },
    { name: "watched", target: "local", frontendReplicas: 2, redisReplicas: 1, idempotencyKey: randomUUID() },
  );
  await boss.stop({ graceful: false, wait: true });
  operationId = r.ok ? (r.operationId ?? "") : "";
  // Running, as if a worker ran it (no worker here: this is about the web process).
  await db.$executeRaw`
    UPDATE operations SET status = 'running', started_at = now(), heartbeat_at = now(), worker_id = 'elsewhere',
      progress_done = 2, progress_expected = 9 WHERE id = ${operationId}::uuid`;
  await db.$executeRaw`
    INSERT INTO operation_events (operation_id, type, message)
    SELECT ${operationId}::uuid, 'log', 'line ' || i FROM generate_series(1, 300) i`;
  portal = await startPortal({
    DATABASE_URL: url,
    PORTAL_ROLE: "web",
    EVENT_STREAMS_MAX: "205",
    RATE_LIMIT_STREAMS_PER_MINUTE: "10000", // one person opens them all here
    METRICS_TOKEN: TOKEN,
  });
}, 120_000);

afterAll(async () => {
  await portal?.stop();
  await db?.$disconnect();
  await pg?.stop();
});

describe("event streams", () => {
  it("200 viewers share one poller; the cap refuses with 503; all end with the operation", async () => {
    const url = `${portal.url}/api/environments/watched/operations/${operationId}/events`;
    const streams = await Promise.all(Array.from({ length: 200 }, () => openStream(url)));
    expect(streams.every((s) => s.status === 200)).toBe(true);
    await waitFor("200 open streams", async () => (await health()).eventStreams === 200, 30_000);
    await waitFor("every viewer to get the log", async () =>
      streams.every((s) => s.text().includes('data: {"id"') && s.text().includes("line 300")),
    );

    // The database's work does not grow with the viewers: one poller's reads (2 per 500 ms), not 200's.
    await new Promise((r) => setTimeout(r, 1500)); // let statistics settle
    const before = await transactions();
    await new Promise((r) => setTimeout(r, 3000));
    const during = (await transactions()) - before;
    expect(during).toBeLessThan(150);

    // New log lines reach every viewer.
    await db.$executeRaw`
      INSERT INTO operation_events (operation_id, type, message) VALUES (${operationId}::uuid, 'log', 'fresh line')`;
    await waitFor("the new line everywhere", async () =>
      streams.every((s) => s.text().includes("fresh line")),
    );

    // The cap: 205 per process. Five more fit, the sixth is refused and told when to retry.
    const more = await Promise.all(Array.from({ length: 5 }, () => openStream(url)));
    expect(more.map((s) => s.status)).toEqual([200, 200, 200, 200, 200]);
    const refusedRes = await fetch(url);
    expect(refusedRes.status).toBe(503);
    expect(refusedRes.headers.get("retry-after")).toBe("5");
    expect(((await refusedRes.json()) as { error: string }).error).toMatch(/Too many live views/);

    // Metrics: refused without the token; with it, this web process's streams and its one poller.
    expect((await fetch(`${portal.url}/api/metrics`)).status).toBe(401);
    const metrics = await (
      await fetch(`${portal.url}/api/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).text();
    expect(metrics).toMatch(/^portal_event_streams_open 205$/m);
    expect(metrics).toMatch(/^portal_event_feeds_active 1$/m);
    expect(metrics).toMatch(/^portal_event_streams_rejected_total 1$/m);
    // The start command's listener serves them too, with the fleet as the database sees it.
    expect((await fetch(portal.metricsUrl)).status).toBe(401);
    const all = await (
      await fetch(portal.metricsUrl, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).text();
    expect(all).toMatch(/^portal_event_streams_open 205$/m);
    expect(all).toMatch(/^portal_operations_running\{worker="elsewhere"\} 1$/m);
    expect(all).toMatch(/^portal_queue_depth\{queue="shared"\} 0$/m);

    // Viewers that leave are let go at once.
    for (const s of [...streams.slice(0, 100), ...more]) s.abort();
    await waitFor("100 streams left", async () => (await health()).eventStreams === 100, 15_000);

    // The operation ends: every remaining stream gets its end and is closed.
    await db.$executeRaw`
      UPDATE operations SET status = 'succeeded', finished_at = now(), progress_done = 9 WHERE id = ${operationId}::uuid`;
    await Promise.all(streams.slice(100).map((s) => s.done));
    for (const s of streams.slice(100)) expect(s.text()).toMatch(/event: end\ndata: \{"status":"succeeded"/);
    await waitFor("no stream left", async () => (await health()).eventStreams === 0);
  }, 180_000);

  it("logs a page's server-side error as a JSON line naming the environment", async () => {
    await pg.server.stop(); // the database goes away under the web process
    const res = await fetch(`${portal.url}/environments/watched`);
    expect(res.status).toBe(500);
    const line = await waitFor("the error's log line", async () =>
      portal
        .output()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.msg === "request failed" && l.path === "/environments/watched"),
    );
    expect(line).toMatchObject({
      level: "error",
      service: "portal",
      role: "web",
      environment: "watched",
      err: { message: expect.any(String) },
    });
  }, 60_000);
});
