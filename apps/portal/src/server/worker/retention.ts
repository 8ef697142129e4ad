// Deletes the events of operations that finished more than the retention period ago (database clock), in
// batches of `batchSize` rows, each its own short statement with a pause between: a first prune over
// millions of old rows never holds one long transaction or starves the running operations' inserts.
import type { PrismaClient } from "@platform/db/client";

export interface PruneResult {
  deleted: number;
  batches: number;
}

export async function pruneOldEvents(
  db: PrismaClient,
  retentionDays: number,
  options: { batchSize?: number; pauseMs?: number; shouldStop?: () => boolean } = {},
): Promise<PruneResult> {
  const batchSize = options.batchSize ?? 5000;
  const result: PruneResult = { deleted: 0, batches: 0 };
  for (;;) {
    if (options.shouldStop?.()) break;
    const deleted = await db.$executeRaw`
      DELETE FROM operation_events WHERE id IN (
        SELECT e.id FROM operation_events e
        JOIN operations o ON o.id = e.operation_id
        WHERE o.finished_at < now() - make_interval(days => ${retentionDays})
        LIMIT ${batchSize})`;
    if (deleted === 0) break;
    result.deleted += deleted;
    result.batches++;
    if (deleted < batchSize) break;
    await new Promise((r) => setTimeout(r, options.pauseMs ?? 50));
  }
  return result;
}
