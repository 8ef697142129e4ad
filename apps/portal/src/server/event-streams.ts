// The web process's operation feeds (server-sent events): one poller per watched operation, shared by all of
// its viewers, at most EVENT_STREAMS_MAX open streams per process. Kept on globalThis: Next may load this
// module once per route bundle, and the count must be the process's.
import type { PrismaClient } from "@platform/db/client";
import { db } from "./db";
import { config } from "./env";
import { type FeedSource, OperationFeeds } from "./operation-feeds";

const eventColumns = { id: true, type: true, severity: true, message: true } as const;

/** Feeds read from the portal's tables: two indexed queries per poll. */
export const databaseFeedSource = (client: () => PrismaClient): FeedSource => ({
  async progress(operationId) {
    const op = await client().operation.findUnique({
      where: { id: operationId },
      select: { status: true, progressDone: true, progressExpected: true, error: true },
    });
    return op && { status: op.status, done: op.progressDone, expected: op.progressExpected, error: op.error };
  },
  async eventsAfter(operationId, afterId, take) {
    return await client().operationEvent.findMany({
      where: { operationId, id: { gt: afterId } },
      orderBy: { id: "asc" },
      take,
      select: eventColumns,
    });
  },
  async latestEvents(operationId, take) {
    const newest = await client().operationEvent.findMany({
      where: { operationId },
      orderBy: { id: "desc" },
      take,
      select: eventColumns,
    });
    return newest.reverse();
  },
});

const holder = globalThis as unknown as { __portalOperationFeeds?: OperationFeeds };

export function operationFeeds(): OperationFeeds {
  holder.__portalOperationFeeds ??= new OperationFeeds(databaseFeedSource(db), {
    maxViewers: config().EVENT_STREAMS_MAX,
  });
  return holder.__portalOperationFeeds;
}

/** Open event streams in this process (reported by /api/health and the metrics). */
export const openEventStreams = () => holder.__portalOperationFeeds?.viewers ?? 0;
