// The worker's writes to an operation's row, all on the DATABASE's clock (now()), never the worker's: a
// worker whose clock runs ahead or behind must not make live operations look dead, nor dead ones alive.
// Every write after the claim is conditional on the operation still being this worker's and running, so a
// worker that lost its operation (interrupted by a reaper meanwhile) can neither keep it alive nor
// overwrite what was recorded.
import type { Prisma, PrismaClient } from "@platform/db/client";

export type ClaimResult =
  | { claimed: true }
  | { claimed: false; reason: "not-queued" }
  /** A local environment another host runs: the job belongs in that host's queue. */
  | { claimed: false; reason: "other-host"; host: string };

/**
 * Takes a queued operation (queued → running) for `workerId`. A local environment that no host runs yet
 * becomes `host`'s; one that another host runs is left queued for that host's worker.
 */
export async function claimOperation(
  db: PrismaClient,
  input: { operationId: string; workerId: string; host: string; jobId: string | null },
): Promise<ClaimResult> {
  return await db.$transaction(async (tx) => {
    // The operation, then its environment (a network's operation has none: any worker runs it). Locked in
    // that order, as the single statement before networks did (FOR UPDATE cannot take an outer join's side).
    const ops = await tx.$queryRaw<{ status: string; cancel: boolean; env_id: string | null }[]>`
      SELECT o.status::text AS status, o.cancel_requested AS cancel, o.environment_id AS env_id
      FROM operations o WHERE o.id = ${input.operationId}::uuid
      FOR UPDATE`;
    const op = ops[0];
    if (op?.status !== "queued" || op.cancel) return { claimed: false, reason: "not-queued" } as const;
    const envs = op.env_id
      ? await tx.$queryRaw<{ env_id: string; target: string; host: string | null }[]>`
          SELECT e.id AS env_id, e.target::text AS target, e.host
          FROM environments e WHERE e.id = ${op.env_id}::uuid
          FOR UPDATE`
      : [];
    const row = envs[0] ?? { env_id: "", target: "aws", host: null };
    if (row.target === "local" && row.host && row.host !== input.host) {
      return { claimed: false, reason: "other-host", host: row.host } as const;
    }
    await tx.$executeRaw`
      UPDATE operations SET status = 'running', started_at = now(), heartbeat_at = now(),
        worker_id = ${input.workerId}, job_id = ${input.jobId}
      WHERE id = ${input.operationId}::uuid`;
    if (row.target === "local" && !row.host) {
      await tx.$executeRaw`UPDATE environments SET host = ${input.host}, updated_at = now() WHERE id = ${row.env_id}::uuid`;
    }
    return { claimed: true } as const;
  });
}

export type HeartbeatResult = { alive: true; cancelRequested: boolean } | { alive: false };

/** Records that `workerId` still runs the operation. Not alive: it is no longer this worker's running one. */
export async function heartbeat(
  db: PrismaClient,
  operationId: string,
  workerId: string,
): Promise<HeartbeatResult> {
  const rows = await db.$queryRaw<{ cancel_requested: boolean }[]>`
    UPDATE operations SET heartbeat_at = now()
    WHERE id = ${operationId}::uuid AND status = 'running' AND worker_id = ${workerId}
    RETURNING cancel_requested`;
  const row = rows[0];
  return row ? { alive: true, cancelRequested: row.cancel_requested } : { alive: false };
}

export interface FinishInput {
  operationId: string;
  workerId: string;
  status: "succeeded" | "failed" | "cancelled" | "interrupted";
  errorCode: string | null;
  error: string | null;
  /** Stored on the operation when given (create/scale/refresh/destroy results). */
  outputs?: Prisma.InputJsonValue | null;
  changes?: Prisma.InputJsonValue | null;
}

/**
 * Records how the operation ended, in `tx`, if it is still this worker's and running. Returns its run time in
 * seconds (database clock), or null when nothing was recorded.
 */
export async function finishOperation(
  tx: Prisma.TransactionClient,
  input: FinishInput,
): Promise<number | null> {
  const outputs = input.outputs === undefined ? null : JSON.stringify(input.outputs);
  const changes =
    input.changes === undefined || input.changes === null ? null : JSON.stringify(input.changes);
  const rows = await tx.$queryRaw<{ seconds: number | null }[]>`
    UPDATE operations SET
      status = ${input.status}::"OperationStatus",
      finished_at = now(),
      error = ${input.error},
      error_code = ${input.errorCode},
      outputs = CASE WHEN ${outputs !== null}::boolean THEN ${outputs}::jsonb ELSE outputs END,
      changes = coalesce(${changes}::jsonb, changes),
      progress_done = CASE WHEN ${input.status}::text = 'succeeded' THEN greatest(progress_done, progress_expected)
                           ELSE progress_done END
    WHERE id = ${input.operationId}::uuid AND status = 'running' AND worker_id = ${input.workerId}
    RETURNING extract(epoch FROM now() - started_at)::float8 AS seconds`;
  return rows.length === 0 ? null : (rows[0]?.seconds ?? 0);
}

/** The operation's status and worker as they stand (to say why a result was not recorded). */
export async function currentOwner(
  db: PrismaClient,
  operationId: string,
): Promise<{ status: string; workerId: string | null } | null> {
  const op = await db.operation.findUnique({
    where: { id: operationId },
    select: { status: true, workerId: true },
  });
  return op;
}
