// Runs queued operations: one per environment at a time (the operations table allows one active operation
// per environment), `concurrency` environments in parallel. Survives restarts: operations whose worker
// stopped sending heartbeats become `interrupted`, their stack locks are cleared, and a person can retry.
import { createHash, randomUUID } from "node:crypto";
import type { Prisma, PrismaClient } from "@platform/db/client";
import type PgBoss from "pg-boss";
import { destroyEnvironment } from "../../features/environments/commands";
import { changesEnvironment, type OperationKind, statusAfter, statusWhileRunning } from "../../shared/status";
import { systemPrincipal } from "../auth/principal";
import { enqueueOperation, jobPending, OPERATIONS_QUEUE, type OperationJob } from "../queue";
import { EventSink } from "./event-sink";
import type { EnvironmentOperations, EnvironmentSpec, OperationResult } from "./operations-contract";

export interface WorkerOptions {
  db: PrismaClient;
  boss: PgBoss;
  ops: EnvironmentOperations;
  concurrency: number;
  heartbeatSeconds: number;
  staleAfterSeconds: number;
  eventsPerOperation: number;
  eventRetentionDays: number;
  /** How often to look for dead workers' operations and lost jobs. */
  reapEverySeconds?: number;
  /** A queued operation older than this whose job is no longer pending gets a new job (default 30 s). */
  lostAfterSeconds?: number;
  /** Poll interval of pg-boss (≥ 0.5 s); bounds how soon a queued operation starts. */
  pollingIntervalSeconds?: number;
  workerId?: string;
  log?: (line: string) => void;
}

/** A stable UUID-shaped key derived from `text`. */
function uuidFrom(text: string): string {
  const h = createHash("sha256").update(text).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

interface Running {
  controller: AbortController;
  done: Promise<void>;
}

export class OperationWorker {
  readonly id: string;
  private readonly running = new Map<string, Running>();
  private stopping = false;
  private reapTimer?: NodeJS.Timeout;
  private readonly log: (line: string) => void;

  constructor(private readonly o: WorkerOptions) {
    this.id = o.workerId ?? `worker-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.log = o.log ?? ((line) => console.log(`[worker ${this.id}] ${line}`));
  }

  get activeOperations(): string[] {
    return [...this.running.keys()];
  }

  async start(): Promise<void> {
    await this.reap();
    await this.prune().catch((e) => this.log(`prune failed: ${e}`));
    for (let i = 0; i < this.o.concurrency; i++) {
      await this.o.boss.work<OperationJob>(
        OPERATIONS_QUEUE,
        { batchSize: 1, pollingIntervalSeconds: this.o.pollingIntervalSeconds ?? 0.5 },
        async ([job]) => {
          if (job) await this.run(job.data.operationId, job.id);
        },
      );
    }
    let ticks = 0;
    this.reapTimer = setInterval(
      () => {
        void this.reap().catch((e) => this.log(`reap failed: ${e}`));
        if (++ticks % 60 === 0) void this.prune().catch((e) => this.log(`prune failed: ${e}`));
      },
      (this.o.reapEverySeconds ?? 10) * 1000,
    );
    this.log(`started, ${this.o.concurrency} operations in parallel`);
  }

  /** Stops taking jobs, asks running operations to stop, and waits for them (up to `graceMs`). */
  async stop(graceMs = 20_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.reapTimer);
    await this.o.boss.offWork(OPERATIONS_QUEUE).catch(() => {});
    for (const r of this.running.values()) r.controller.abort(new Error("worker shutting down"));
    const all = Promise.allSettled([...this.running.values()].map((r) => r.done));
    await Promise.race([all, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
    this.log("stopped");
  }

  /** Runs one operation to its end. Returns at once if it is no longer queued (cancelled, done, claimed). */
  async run(operationId: string, jobId?: string): Promise<void> {
    if (this.stopping) return; // left queued: another worker (or this one after a restart) takes it
    const now = new Date();
    const claimed = await this.o.db.operation.updateMany({
      where: { id: operationId, status: "queued", cancelRequested: false },
      data: { status: "running", startedAt: now, heartbeatAt: now, workerId: this.id, jobId: jobId ?? null },
    });
    if (claimed.count === 0) return;
    const op = await this.o.db.operation.findUniqueOrThrow({
      where: { id: operationId },
      include: { environment: true },
    });
    const controller = new AbortController();
    let finish!: () => void;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    this.running.set(operationId, { controller, done });
    try {
      await this.execute(op, controller);
    } finally {
      this.running.delete(operationId);
      finish();
    }
  }

  private async execute(
    op: Prisma.OperationGetPayload<{ include: { environment: true } }>,
    controller: AbortController,
  ): Promise<void> {
    const { db } = this.o;
    const env = op.environment;
    const kind = op.kind as OperationKind;
    // The stored request is the operations' spec itself; they validate it before any Pulumi run.
    const spec = op.requestedConfig as unknown as EnvironmentSpec;
    const ref = { name: spec.name, target: spec.target };
    if (changesEnvironment(kind)) {
      await db.environment.updateMany({
        where: { id: env.id, lastOperationId: op.id },
        data: { status: statusWhileRunning(kind, env.currentFrontendReplicas === null) },
      });
    }
    const sink = new EventSink(db, op.id, this.o.eventsPerOperation);
    sink.note("status", `${kind} started by ${this.id} (requested by ${op.requestedBy})`);
    const heartbeat = setInterval(() => void this.beat(op.id, controller), this.o.heartbeatSeconds * 1000);
    const runOptions = { signal: controller.signal, onEvent: sink.push };
    let result: OperationResult | undefined;
    let failure:
      | { status: "failed" | "cancelled" | "interrupted"; code: string; message: string }
      | undefined;
    try {
      if (kind === "create" || kind === "scale" || kind === "reconcile") {
        result = await this.o.ops.up(spec, runOptions);
      } else if (kind === "preview") result = await this.o.ops.preview(spec, runOptions);
      else if (kind === "refresh") result = await this.o.ops.refresh(ref, runOptions);
      else result = await this.o.ops.destroy(ref, runOptions);
    } catch (error) {
      const code = (error as { code?: string }).code ?? "unknown";
      const message = error instanceof Error ? error.message : String(error);
      const cancelled = code === "cancelled" || controller.signal.aborted;
      failure = {
        status: cancelled ? (this.stopping ? "interrupted" : "cancelled") : "failed",
        code: cancelled && !this.stopping ? "cancelled" : code,
        message: this.stopping ? `the worker shut down while it ran (${message})` : message,
      };
    } finally {
      clearInterval(heartbeat);
    }
    if (failure) sink.note("status", `${kind} ${failure.status}: ${failure.message}`, "error");
    else sink.note("status", `${kind} succeeded in ${((result?.durationMs ?? 0) / 1000).toFixed(1)} s`);
    await sink.close();
    await this.record(op.id, env.id, kind, spec, result, failure);
  }

  private async record(
    operationId: string,
    environmentId: string,
    kind: OperationKind,
    spec: EnvironmentSpec,
    result: OperationResult | undefined,
    failure: { status: "failed" | "cancelled" | "interrupted"; code: string; message: string } | undefined,
  ): Promise<void> {
    const status = failure?.status ?? "succeeded";
    const outputs = (result?.outputs ?? null) as Prisma.InputJsonValue | null;
    await this.o.db.$transaction(async (tx) => {
      const op = await tx.operation.findUniqueOrThrow({ where: { id: operationId } });
      await tx.operation.update({
        where: { id: operationId },
        data: {
          status,
          finishedAt: new Date(),
          error: failure?.message.slice(0, 8000) ?? null,
          errorCode: failure?.code ?? null,
          ...(outputs && changesEnvironment(kind) ? { outputs } : {}),
          changes: (result?.changes ?? undefined) as Prisma.InputJsonValue | undefined,
          ...(status === "succeeded" ? { progressDone: Math.max(op.progressDone, op.progressExpected) } : {}),
        },
      });
      if (!changesEnvironment(kind)) return;
      const envData: Prisma.EnvironmentUpdateManyMutationInput = { status: statusAfter(kind, status) };
      if (status === "succeeded") {
        if (kind === "destroy") {
          Object.assign(envData, {
            outputs: null as unknown as Prisma.InputJsonValue,
            currentFrontendReplicas: null,
            currentRedisReplicas: null,
          });
        } else {
          Object.assign(envData, { outputs: outputs ?? undefined });
          if (kind !== "refresh") {
            Object.assign(envData, {
              currentFrontendReplicas: spec.frontendReplicas,
              currentRedisReplicas: spec.redisReplicas,
            });
          } else if (result?.observed) {
            // What the refreshed state holds: a process found gone no longer counts (the page then offers a
            // reconcile); the outputs keep what was asked.
            Object.assign(envData, {
              currentFrontendReplicas: result.observed.frontendReplicas,
              currentRedisReplicas: result.observed.redisReplicas,
            });
          }
        }
      }
      await tx.environment.updateMany({
        where: { id: environmentId, lastOperationId: operationId },
        data: envData,
      });
    });
  }

  /** Records that this worker is alive; aborts the operation when someone asked to cancel it. */
  private async beat(operationId: string, controller: AbortController): Promise<void> {
    try {
      const rows = await this.o.db.$queryRaw<{ cancel_requested: boolean }[]>`
        UPDATE operations SET heartbeat_at = now() WHERE id = ${operationId}::uuid AND status = 'running'
        RETURNING cancel_requested`;
      if (rows[0]?.cancel_requested && !controller.signal.aborted) controller.abort(new Error("cancelled"));
    } catch (e) {
      this.log(`heartbeat failed: ${e}`);
    }
  }

  /**
   * Marks operations whose worker stopped beating as interrupted, clears their stack locks, and re-sends
   * queued operations whose job went missing (the send is idempotent: the job id is the operation id).
   */
  async reap(): Promise<string[]> {
    const { db } = this.o;
    const cutoff = new Date(Date.now() - this.o.staleAfterSeconds * 1000);
    const stale = await db.operation.findMany({
      where: { status: "running", heartbeatAt: { lt: cutoff }, id: { notIn: this.activeOperations } },
      include: { environment: true },
    });
    const interrupted: string[] = [];
    for (const op of stale) {
      const message = `interrupted: worker ${op.workerId ?? "?"} stopped (no heartbeat since ${op.heartbeatAt?.toISOString()})`;
      // One transaction: nobody sees the operation interrupted while its environment still looks busy.
      const marked = await db.$transaction(async (tx) => {
        const m = await tx.operation.updateMany({
          where: { id: op.id, status: "running", heartbeatAt: { lt: cutoff } },
          data: { status: "interrupted", finishedAt: new Date(), error: message, errorCode: "interrupted" },
        });
        if (m.count === 1) {
          await tx.environment.updateMany({
            where: { id: op.environmentId, lastOperationId: op.id },
            data: { status: "failed" },
          });
        }
        return m.count;
      });
      if (marked === 0) continue;
      interrupted.push(op.id);
      const notes: string[] = [message];
      if (op.jobId) await this.o.boss.fail(OPERATIONS_QUEUE, op.jobId, { message }).catch(() => {});
      try {
        await this.o.ops.recover({ name: op.environment.name, target: op.environment.target });
        notes.push("stack lock cleared; the operation can be retried");
      } catch (e) {
        notes.push(`could not clear the stack lock: ${e instanceof Error ? e.message : e}`);
      }
      await db.operationEvent.createMany({
        data: notes.map((m) => ({ operationId: op.id, type: "notice", severity: "warning", message: m })),
      });
      this.log(`operation ${op.id} (${op.kind} ${op.environment.name}) ${message}`);
    }
    // Queued operations whose job ended without running them (a worker stopping, a job deleted by hand):
    // send a new job. The claim is conditional, so a duplicate job would find nothing to do.
    const waiting = await db.operation.findMany({
      where: {
        status: "queued",
        createdAt: { lt: new Date(Date.now() - (this.o.lostAfterSeconds ?? 30) * 1000) },
      },
      include: { environment: { select: { name: true } } },
      take: 100,
    });
    for (const op of waiting) {
      if (await jobPending(this.o.boss, op.jobId ?? op.id)) continue;
      const jobId = randomUUID();
      await db.operation.updateMany({ where: { id: op.id, status: "queued" }, data: { jobId } });
      await enqueueOperation(this.o.boss, op.id, op.environment.name, jobId);
      this.log(`operation ${op.id} had no pending job: re-sent`);
    }
    await this.destroyExpired();
    return interrupted;
  }

  /** Requests a destroy of environments whose time-to-live has passed (when nothing else runs on them). */
  async destroyExpired(): Promise<string[]> {
    const expired = await this.o.db.environment.findMany({
      where: {
        expiresAt: { lt: new Date() },
        deletedAt: null,
        status: { in: ["ready", "failed"] },
        NOT: { lastOperation: { status: { in: ["queued", "running"] } } },
      },
      select: { name: true },
      take: 20,
    });
    const requested: string[] = [];
    for (const { name } of expired) {
      const result = await destroyEnvironment(
        { db: this.o.db, boss: this.o.boss, principal: systemPrincipal("time-to-live") },
        // One key per environment: several workers reaping at once request one destroy.
        { name, confirmation: name, idempotencyKey: uuidFrom(`ttl-destroy:${name}`) },
      );
      if (result.ok && !result.duplicate) {
        requested.push(name);
        this.log(`time-to-live of ${name} passed: destroy requested`);
      }
    }
    return requested;
  }

  /** Deletes events of operations that finished more than the retention period ago. */
  async prune(): Promise<number> {
    const cutoff = new Date(Date.now() - this.o.eventRetentionDays * 86_400_000);
    return await this.o.db.$executeRaw`
      DELETE FROM operation_events e USING operations o
      WHERE e.operation_id = o.id AND o.finished_at < ${cutoff}`;
  }
}
