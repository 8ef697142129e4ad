// The operation queue: pg-boss 10 over the portal's PostgreSQL. A job carries only an operation id; the
// operations table is the source of truth (status, config, who). The job id IS the operation id, so sending
// twice is harmless (pg-boss ignores a duplicate id).
import PgBoss from "pg-boss";

export const OPERATIONS_QUEUE = "environment-operations";

export interface OperationJob {
  operationId: string;
}

export interface QueueOptions {
  /** Web processes only send: no maintenance, no cron. */
  role: "sender" | "worker";
  /** Longest an operation may run before pg-boss expires its job. */
  expireInSeconds?: number;
}

export async function startQueue(databaseUrl: string, options: QueueOptions): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: databaseUrl,
    schema: "pgboss",
    max: options.role === "worker" ? 4 : 2,
    supervise: options.role === "worker",
    schedule: false,
    migrate: true,
  });
  boss.on("error", (error) => console.error(`[queue] ${error.message}`));
  await boss.start();
  // Jobs are never retried by pg-boss: an operation that fails or is interrupted is retried by a person.
  await boss.createQueue(OPERATIONS_QUEUE, {
    name: OPERATIONS_QUEUE,
    policy: "standard",
    retryLimit: 0,
    expireInSeconds: options.expireInSeconds ?? 2 * 3600,
    retentionMinutes: 60 * 24,
  });
  return boss;
}

/** Sends the job of an operation; `jobId` defaults to the operation id (so the first send is idempotent). */
export async function enqueueOperation(
  boss: PgBoss,
  operationId: string,
  environment: string,
  jobId: string = operationId,
): Promise<void> {
  await boss.send(OPERATIONS_QUEUE, { operationId } satisfies OperationJob, {
    id: jobId,
    singletonKey: environment,
    retryLimit: 0,
  });
}

const PENDING_JOB_STATES = new Set(["created", "retry", "active"]);

/** True when the job is still waiting or running (false when it ended or never existed). */
export async function jobPending(boss: PgBoss, jobId: string): Promise<boolean> {
  const job = await boss.getJobById(OPERATIONS_QUEUE, jobId);
  return !!job && PENDING_JOB_STATES.has(job.state);
}
