// Several worker processes starting at once against one fresh database (a deploy restarts them together):
// each creates the shared queue, its host's queue and the webhook queue. pg-boss's create_queue deadlocks
// under that concurrency (17 of 24 starts failed before createQueueRetrying); every start must succeed.
import { createDbClient } from "@platform/db";
import type PgBoss from "pg-boss";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WEBHOOK_QUEUE, WebhookDispatcher } from "../../src/features/webhooks/dispatcher";
import { hostQueue, OPERATIONS_QUEUE, startQueue } from "../../src/server/queue";
import { startTestDatabaseServer, type TestDatabaseServer } from "../helpers/database";

let pg: TestDatabaseServer;

beforeAll(async () => {
  pg = await startTestDatabaseServer();
}, 120_000);

afterAll(async () => {
  await pg?.stop();
});

describe("workers starting together", () => {
  it("all start, with every queue created once", async () => {
    for (let round = 0; round < 3; round++) {
      const url = await pg.fresh();
      const db = createDbClient(url, { poolSize: 2 });
      const started = await Promise.allSettled(
        [0, 1, 2, 3].map(async (i) => {
          const boss = await startQueue(url, { role: "worker", host: `host-${i}` });
          const webhooks = new WebhookDispatcher(db, boss, {
            attempts: 2,
            retrySeconds: 1,
            timeoutSeconds: 1,
            policy: { allowLoopback: false, privateHosts: [] },
            publicUrl: "http://localhost",
            log: () => {},
          });
          await webhooks.start();
          return { boss, webhooks };
        }),
      );
      const failures = started
        .filter((s) => s.status === "rejected")
        .map((s) => String((s as PromiseRejectedResult).reason));
      const bosses = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
      try {
        expect(failures).toEqual([]);
        const names = ((await bosses[0]?.boss.getQueues()) ?? [])
          .map((q: PgBoss.QueueResult) => q.name)
          .sort();
        expect(names).toEqual(
          [OPERATIONS_QUEUE, WEBHOOK_QUEUE, ...[0, 1, 2, 3].map((i) => hostQueue(`host-${i}`))].sort(),
        );
      } finally {
        for (const b of bosses) {
          await b.webhooks.stop();
          await b.boss.stop({ graceful: false, wait: true });
        }
        await db.$disconnect();
      }
    }
  }, 180_000);
});
