// Operations of dead workers and jobs that went missing. "Dead" is judged on the database's clock alone:
// a heartbeat older than STALE_AFTER_SECONDS by now() — never by this worker's clock.
import { randomUUID } from "node:crypto";
import type { PrismaClient } from "@platform/db/client";
import type PgBoss from "pg-boss";
import { networkJobKey } from "../../features/networks/commands";
import { enqueueOperation, hostQueue, jobPending, OPERATIONS_QUEUE } from "../queue";

export interface StaleOperation {
  id: string;
  kind: string;
  workerId: string | null;
  jobId: string | null;
  message: string;
  /** Run time until now, database clock. */
  seconds: number;
  /** The environment it ran on; absent for a network's operation. */
  environment?: { id: string; name: string; target: "local" | "aws"; host: string | null };
  /** The network it ran on (features/networks); absent for an environment's operation. */
  network?: { id: string; name: string };
}

interface StaleRow {
  id: string;
  kind: string;
  worker_id: string | null;
  job_id: string | null;
  message: string;
  seconds: number | null;
  environment_id: string | null;
  name: string | null;
  target: "local" | "aws" | null;
  host: string | null;
  network_id: string | null;
  network_name: string | null;
}

/**
 * Marks running operations whose heartbeat is older than `staleAfterSeconds` (database clock) as
 * interrupted, and their environments (or networks) failed, in one statement: nobody sees the operation interrupted while
 * its environment still looks busy. `exclude`: operations this worker runs itself.
 */
export async function interruptStaleOperations(
  db: PrismaClient,
  staleAfterSeconds: number,
  exclude: string[],
): Promise<StaleOperation[]> {
  const rows = await db.$queryRaw<StaleRow[]>`
    WITH stale AS (
      UPDATE operations o SET
        status = 'interrupted',
        finished_at = now(),
        error_code = 'interrupted',
        error = 'interrupted: worker ' || coalesce(o.worker_id, '?') || ' stopped (no heartbeat since '
          || to_char(o.heartbeat_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || ')'
      WHERE o.status = 'running'
        AND o.heartbeat_at < now() - make_interval(secs => ${staleAfterSeconds})
        AND NOT (o.id = ANY(${exclude}::uuid[]))
      RETURNING o.id, o.kind::text AS kind, o.worker_id, o.job_id, o.error AS message, o.environment_id,
        o.network_id, extract(epoch FROM now() - o.started_at)::float8 AS seconds
    ), failed AS (
      UPDATE environments e SET status = 'failed', updated_at = now()
      FROM stale WHERE e.last_operation_id = stale.id
      RETURNING e.id
    ), failed_networks AS (
      UPDATE networks n SET status = 'failed', updated_at = now()
      FROM stale WHERE n.last_operation_id = stale.id
      RETURNING n.id
    )
    SELECT stale.*, e.name, e.target::text AS target, e.host, n.name AS network_name
    FROM stale
      LEFT JOIN environments e ON e.id = stale.environment_id
      LEFT JOIN networks n ON n.id = stale.network_id`;
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    workerId: r.worker_id,
    jobId: r.job_id,
    message: r.message,
    seconds: r.seconds ?? 0,
    ...(r.environment_id && r.name && r.target
      ? { environment: { id: r.environment_id, name: r.name, target: r.target, host: r.host } }
      : {}),
    ...(r.network_id && r.network_name ? { network: { id: r.network_id, name: r.network_name } } : {}),
  }));
}

/**
 * Queued operations whose job ended without running them (a worker stopping, a job deleted by hand) get a
 * new job. The claim is conditional, so a duplicate job would find nothing to do. Returns their ids.
 */
export async function resendLostJobs(
  db: PrismaClient,
  boss: PgBoss,
  lostAfterSeconds: number,
): Promise<string[]> {
  const waiting = await db.$queryRaw<
    { id: string; job_id: string | null; name: string | null; host: string | null; network: string | null }[]
  >`
    SELECT o.id, o.job_id, e.name, e.host, n.name AS network
    FROM operations o
      LEFT JOIN environments e ON e.id = o.environment_id
      LEFT JOIN networks n ON n.id = o.network_id
    WHERE o.status = 'queued' AND o.created_at < now() - make_interval(secs => ${lostAfterSeconds})
    ORDER BY o.created_at
    LIMIT 100`;
  const resent: string[] = [];
  for (const op of waiting) {
    const queues = op.host ? [hostQueue(op.host), OPERATIONS_QUEUE] : [OPERATIONS_QUEUE];
    if (await jobPending(boss, op.job_id ?? op.id, queues)) continue;
    const jobId = randomUUID();
    const updated = await db.operation.updateMany({
      where: { id: op.id, status: "queued" },
      data: { jobId },
    });
    if (updated.count === 0) continue;
    // A network's jobs are keyed apart from environments' (one per network at a time).
    await enqueueOperation(boss, op.id, op.network ? networkJobKey(op.network) : (op.name ?? op.id), jobId);
    resent.push(op.id);
  }
  return resent;
}
