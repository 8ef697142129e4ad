// Time-to-live: environments whose expiry has passed (database clock) are destroyed, oldest expiry first.
// Each is requested on its own, so one that cannot be destroyed never holds up the others. A destroy that
// was cancelled is requested again at the next round (a cancel cannot disarm the expiry); one that failed is
// requested again after a pause that doubles with each failure (1 min up to 1 h), so a broken environment
// neither blocks the queue nor retries in a tight loop. Requests carry fresh idempotency keys: no request
// made by anyone else can pass for the expiry's.
import { randomUUID } from "node:crypto";
import type { PrismaClient } from "@platform/db/client";
import type PgBoss from "pg-boss";
import { destroyEnvironment } from "../../features/environments/commands";
import { systemPrincipal } from "../auth/principal";

export const EXPIRY_USER = "time-to-live";

export interface ExpiryRound {
  requested: string[];
  failed: { name: string; error: string }[];
}

/** Expired environments ready for a destroy now, oldest expiry first. */
export async function dueForExpiry(db: PrismaClient, limit: number): Promise<string[]> {
  const rows = await db.$queryRaw<{ name: string }[]>`
    SELECT e.name
    FROM environments e
    LEFT JOIN operations last ON last.id = e.last_operation_id
    WHERE e.expires_at < now()
      AND e.deleted_at IS NULL
      AND e.status <> 'destroyed'
      AND (last.id IS NULL OR last.status NOT IN ('queued', 'running'))
      AND NOT (
        last.kind = 'destroy' AND last.status = 'failed'
        AND last.finished_at > now() - make_interval(mins => least(60, power(2, (
          SELECT count(*) FROM operations f
          WHERE f.environment_id = e.id AND f.kind = 'destroy' AND f.status = 'failed'
            AND f.created_at >= e.expires_at) - 1)::int))
      )
    ORDER BY e.expires_at, e.id
    LIMIT ${limit}`;
  return rows.map((r) => r.name);
}

export async function destroyExpired(db: PrismaClient, boss: PgBoss, limit = 20): Promise<ExpiryRound> {
  const round: ExpiryRound = { requested: [], failed: [] };
  for (const name of await dueForExpiry(db, limit)) {
    try {
      const result = await destroyEnvironment(
        { db, boss, principal: systemPrincipal(EXPIRY_USER) },
        { name, confirmation: name, idempotencyKey: randomUUID() },
      );
      // Not ok: another worker requested it a moment ago, or someone else's request came first.
      if (result.ok) round.requested.push(name);
    } catch (e) {
      round.failed.push({ name, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return round;
}
