// The shared operation feeds (one poller per operation, any number of viewers) against a real PostgreSQL:
// every viewer gets every event once and in order from where it starts, one resuming from before what the
// poller keeps reads the gap itself, the reads do not grow with the viewers, the cap refuses, and the
// poller stops when its viewers are gone.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { databaseFeedSource } from "../../src/server/event-streams";
import {
  type FeedEvent,
  type FeedProgress,
  type FeedSource,
  OperationFeeds,
} from "../../src/server/operation-feeds";
import { startTestDatabaseServer, type TestDatabaseServer, waitFor } from "../helpers/database";
import { type Cleanups, create, setup, sleep } from "../helpers/worker-setup";

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

interface Seen {
  events: bigint[];
  progress: FeedProgress[];
  end?: FeedProgress | null;
}

function viewer() {
  const seen: Seen = { events: [], progress: [] };
  return {
    seen,
    viewer: {
      event: (e: FeedEvent) => seen.events.push(e.id),
      progress: (p: FeedProgress) => seen.progress.push(p),
      end: (p: FeedProgress | null) => {
        seen.end = p;
      },
    },
  };
}

function counting(source: FeedSource) {
  const calls = { progress: 0, eventsAfter: 0, latestEvents: 0 };
  const wrapped: FeedSource = {
    progress: (id) => {
      calls.progress++;
      return source.progress(id);
    },
    eventsAfter: (id, after, take) => {
      calls.eventsAfter++;
      return source.eventsAfter(id, after, take);
    },
    latestEvents: (id, take) => {
      calls.latestEvents++;
      return source.latestEvents(id, take);
    },
  };
  return { calls, source: wrapped };
}

describe("operation feeds", () => {
  it("serves 200 viewers of one operation from one poller, each from its own position", async () => {
    const s = await setup(pg, cleanups);
    const r = await create(s.ctx, "watched");
    const operationId = r.ok ? (r.operationId ?? "") : "";
    await s.db.operation.update({
      where: { id: operationId },
      data: { status: "running", startedAt: new Date() },
    });
    const write = (n: number, from: number) => s.db.$executeRaw`
      INSERT INTO operation_events (operation_id, type, message)
      SELECT ${operationId}::uuid, 'log', 'line ' || i FROM generate_series(${from}::int, ${from + n - 1}::int) i`;
    await write(1200, 1);
    const ids = async () =>
      (
        await s.db.operationEvent.findMany({
          where: { operationId },
          orderBy: { id: "asc" },
          select: { id: true },
        })
      ).map((e) => e.id);
    const initial = await ids();

    const { calls, source } = counting(databaseFeedSource(() => s.db));
    const feeds = new OperationFeeds(source, { maxViewers: 201, pollMs: 100, tailSize: 500 });
    const fresh = Array.from({ length: 200 }, () => viewer());
    const leaveFns = fresh.map((v) => feeds.subscribe(operationId, undefined, v.viewer));
    expect(leaveFns.every((f) => f !== null)).toBe(true);
    // A browser reconnecting after event #100: older than the 500 the poller keeps in memory.
    const resumed = viewer();
    expect(feeds.subscribe(operationId, initial[99], resumed.viewer)).not.toBeNull();
    // The cap: a 202nd viewer is refused until one leaves.
    expect(feeds.subscribe(operationId, undefined, viewer().viewer)).toBeNull();
    expect(feeds.rejected).toBe(1);
    expect(feeds.viewers).toBe(201);
    await waitFor("the first poll", async () => (fresh[0]?.seen.events.length ?? 0) > 0);
    const leaver = fresh[0];
    leaveFns[0]?.();
    const late = viewer();
    expect(feeds.subscribe(operationId, undefined, late.viewer)).not.toBeNull();

    // The operation goes on writing, then ends.
    for (let batch = 0; batch < 5; batch++) {
      await write(10, 1201 + batch * 10);
      await s.db.operation.update({
        where: { id: operationId },
        data: { progressDone: batch + 1, progressExpected: 9 },
      });
      await sleep(200);
    }
    await s.db.operation.update({
      where: { id: operationId },
      data: { status: "succeeded", progressDone: 9, progressExpected: 9, finishedAt: new Date() },
    });
    const everyone = [...fresh.slice(1), resumed, late];
    await waitFor("every viewer to be ended", async () => everyone.every((v) => v.seen.end !== undefined));

    const all = await ids();
    expect(all).toHaveLength(1250);
    const tail = [...initial.slice(-500), ...all.slice(1200)];
    for (const v of [...fresh.slice(1), late]) {
      expect(v.seen.end).toMatchObject({ status: "succeeded", done: 9, expected: 9 });
    }
    for (const v of fresh.slice(1)) expect(v.seen.events).toEqual(tail);
    // A viewer that joins later starts from the latest 500 at that moment, and misses nothing after.
    const from = all.indexOf(late.seen.events[0] ?? -1n);
    expect(from).toBeGreaterThanOrEqual(700);
    expect(late.seen.events).toEqual(all.slice(from));
    expect(resumed.seen.events).toEqual(all.slice(100));
    expect(resumed.seen.progress.map((p) => p.done)).toContain(5);
    // The one that left got a prefix, and nothing after it left.
    expect(leaver?.seen.end).toBeUndefined();
    expect(tail.slice(0, leaver?.seen.events.length)).toEqual(leaver?.seen.events);
    // One poller for all of them: about one read of the progress per 100 ms, not one per viewer.
    expect(calls.latestEvents).toBe(1);
    expect(calls.progress).toBeLessThan(60);
    expect(feeds.viewers).toBe(0);
    expect(feeds.activeFeeds).toBe(0);
  });

  it("stops polling when its viewers are gone, and starts again for the next", async () => {
    const s = await setup(pg, cleanups);
    const r = await create(s.ctx, "glanced");
    const operationId = r.ok ? (r.operationId ?? "") : "";
    await s.db.operation.update({ where: { id: operationId }, data: { status: "running" } });
    const { calls, source } = counting(databaseFeedSource(() => s.db));
    const feeds = new OperationFeeds(source, { maxViewers: 10, pollMs: 50 });
    const leave = [1, 2, 3].map(() => feeds.subscribe(operationId, undefined, viewer().viewer));
    await sleep(300);
    expect(feeds.activeFeeds).toBe(1);
    for (const l of leave) l?.();
    expect(feeds.viewers).toBe(0);
    await sleep(200);
    const polls = calls.progress;
    await sleep(500);
    expect(calls.progress).toBe(polls);
    expect(feeds.activeFeeds).toBe(0);
    const again = viewer();
    feeds.subscribe(operationId, undefined, again.viewer);
    await s.db.operation.update({ where: { id: operationId }, data: { status: "cancelled" } });
    await waitFor("the new viewer's end", async () => again.seen.end !== undefined);
    expect(again.seen.end?.status).toBe("cancelled");
    // An operation removed meanwhile ends its viewers with null.
    const gone = viewer();
    const r2 = await create(s.ctx, "vanishing");
    const id2 = r2.ok ? (r2.operationId ?? "") : "";
    feeds.subscribe(id2, undefined, gone.viewer);
    await s.db.environment.deleteMany({ where: { name: "vanishing" } });
    await waitFor("the viewer of a removed operation to end", async () => gone.seen.end !== undefined);
    expect(gone.seen.end).toBeNull();
  });
});
