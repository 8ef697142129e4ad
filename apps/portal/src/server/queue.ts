// The operation queue: pg-boss 10 over the portal's PostgreSQL. A job carries only an operation id; the
// operations table is the source of truth (status, config, who). The first job of an operation has the
// operation's id, so sending twice is harmless (pg-boss ignores a duplicate id).
//
// Queues: one shared by every worker (aws environments, and local ones no host owns yet), and one per host
// for the local environments that host runs (`environment-operations.host.<HOST_ID>`). After a send, a
// NOTIFY on QUEUED_CHANNEL wakes the workers at once (they also poll, in case a notification is missed).
import PgBoss from "pg-boss";

export const OPERATIONS_QUEUE = "environment-operations";
export const QUEUED_CHANNEL = "portal_operation_queued";

/** The queue of the local environments that `host` runs. */
export const hostQueue = (host: string) => `${OPERATIONS_QUEUE}.host.${host}`;

export interface OperationJob {
  operationId: string;
}

export interface QueueOptions {
  /** Web processes only send: no maintenance, no cron. */
  role: "sender" | "worker";
  /**
   * Longest a job may stay active before pg-boss fails it. Workers stop an operation themselves at
   * OPERATION_TIMEOUT_MINUTES; this is pg-boss's backstop and is set a little longer.
   */
  expireInSeconds?: number;
  /** Worker role: the host whose queue this worker also serves (created, options kept up to date). */
  host?: string;
  /** pg-boss's own errors (a lost connection, a failed maintenance run). Default: stderr. */
  onError?: (error: Error) => void;
}

const DEFAULT_EXPIRE_SECONDS = 2 * 3600;

/** pg-boss's own expiry of a job: a backstop behind the worker's timeout, so it never ends a run first. */
export const QUEUE_EXPIRY_MARGIN_SECONDS = 15 * 60;

function queueOptions(expireInSeconds: number) {
  // Jobs are never retried by pg-boss: an operation that fails or is interrupted is retried by a person.
  return { policy: "standard" as const, retryLimit: 0, expireInSeconds, retentionMinutes: 60 * 24 };
}

/**
 * Creates `name`, or brings an existing queue's options up to date: pg-boss's createQueue leaves an existing
 * queue as it was, so a changed timeout would otherwise never reach it.
 */
export async function ensureQueue(boss: PgBoss, name: string, expireInSeconds: number): Promise<void> {
  const wanted = queueOptions(expireInSeconds);
  await boss.createQueue(name, { name, ...wanted });
  const current = await boss.getQueue(name);
  if (
    current &&
    (current.expireInSeconds !== wanted.expireInSeconds ||
      current.retryLimit !== wanted.retryLimit ||
      current.retentionMinutes !== wanted.retentionMinutes)
  ) {
    await boss.updateQueue(name, { name, ...wanted });
  }
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
  boss.on("error", options.onError ?? ((error) => console.error(`[queue] ${error.message}`)));
  await boss.start();
  const expire = options.expireInSeconds ?? DEFAULT_EXPIRE_SECONDS;
  if (options.role === "worker") {
    await ensureQueue(boss, OPERATIONS_QUEUE, expire);
    if (options.host) await ensureQueue(boss, hostQueue(options.host), expire);
  } else {
    await boss.createQueue(OPERATIONS_QUEUE, { name: OPERATIONS_QUEUE, ...queueOptions(expire) });
  }
  return boss;
}

/** Which queue an environment's operations go to: its host's for a local environment that has one. */
async function queueFor(boss: PgBoss, environment: string): Promise<string> {
  const rows = await boss
    .getDb()
    .executeSql("SELECT host FROM environments WHERE name = $1 AND target = 'local' AND deleted_at IS NULL", [
      environment,
    ]);
  const host = (rows as { rows?: { host: string | null }[] }).rows?.[0]?.host;
  return host ? hostQueue(host) : OPERATIONS_QUEUE;
}

/**
 * Sends the job of an operation to its environment's queue and wakes the workers; `jobId` defaults to the
 * operation id (so the first send is idempotent).
 */
export async function enqueueOperation(
  boss: PgBoss,
  operationId: string,
  environment: string,
  jobId: string = operationId,
): Promise<string> {
  // A host's queue exists: its worker created it at start, before it could run (and so own) any environment.
  const queue = await queueFor(boss, environment);
  await boss.send(queue, { operationId } satisfies OperationJob, {
    id: jobId,
    singletonKey: environment,
    retryLimit: 0,
  });
  await notifyQueued(boss, queue);
  return queue;
}

/** Wakes the workers waiting on QUEUED_CHANNEL (payload: the queue). */
export async function notifyQueued(boss: PgBoss, queue: string): Promise<void> {
  await boss.getDb().executeSql("SELECT pg_notify($1, $2)", [QUEUED_CHANNEL, queue]);
}

const PENDING_JOB_STATES = new Set(["created", "retry", "active"]);

/** True when the job is still waiting or running in any of `queues` (false when it ended or never existed). */
export async function jobPending(
  boss: PgBoss,
  jobId: string,
  queues: string[] = [OPERATIONS_QUEUE],
): Promise<boolean> {
  for (const queue of queues) {
    const job = await boss.getJobById(queue, jobId).catch(() => null);
    if (job && PENDING_JOB_STATES.has(job.state)) return true;
  }
  return false;
}
