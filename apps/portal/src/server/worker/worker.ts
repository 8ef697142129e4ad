// Runs queued operations: one per environment (or network) at a time (the operations table allows one active
// operation per environment and per network), `concurrency` of them in parallel. Network operations
// (features/networks) run through the same claim, events, heartbeat, timeout and reaper. A local environment belongs to the host whose
// worker first ran it; its later operations go to that host's queue. Survives restarts: operations whose
// worker stopped sending heartbeats (judged on the database's clock) become `interrupted`, their stack
// locks are cleared, and a person can retry. An operation that runs past OPERATION_TIMEOUT_MINUTES is
// aborted and recorded as timed out.
import { randomUUID } from "node:crypto";
import type { Prisma, PrismaClient } from "@platform/db/client";
import type PgBoss from "pg-boss";
import { defaultNetworkName } from "../../features/networks/model";
import {
  markNetworkRunning,
  recordNetworkOutcome,
  waitForNetwork,
} from "../../features/networks/worker-steps";
import { changesEnvironment, type OperationKind, statusAfter, statusWhileRunning } from "../../shared/status";
import { defaultHostId } from "../env";
import { type Logger, silentLogger } from "../logger";
import {
  countOperationFinished,
  countOperationStarted,
  type OperationResultLabel,
} from "../metrics/operation-metrics";
import {
  enqueueOperation,
  ensureQueue,
  hostQueue,
  OPERATIONS_QUEUE,
  QUEUE_EXPIRY_MARGIN_SECONDS,
  QUEUED_CHANNEL,
} from "../queue";
import { EventSink } from "./event-sink";
import { destroyExpired } from "./expiry";
import { type FetchedJob, JobDispatcher } from "./job-dispatcher";
import { claimOperation, currentOwner, finishOperation, heartbeat } from "./operation-rows";
import type {
  EnvironmentOperations,
  EnvironmentSpec,
  NetworkOperations,
  NetworkSpec,
  OperationResult,
  RunOptions,
} from "./operations-contract";
import { QueueWakeup } from "./queue-wakeup";
import { interruptStaleOperations, resendLostJobs, type StaleOperation } from "./reaper";
import { type PruneResult, pruneOldEvents } from "./retention";

export interface WorkerOptions {
  db: PrismaClient;
  boss: PgBoss;
  ops: EnvironmentOperations;
  /** The shared networks' operations (AWS); without them a network operation fails saying so. */
  networks?: NetworkOperations;
  concurrency: number;
  heartbeatSeconds: number;
  staleAfterSeconds: number;
  eventsPerOperation: number;
  eventRetentionDays: number;
  /** Longest an operation may run (OPERATION_TIMEOUT_MINUTES × 60); then it is aborted. Default 2 h. */
  operationTimeoutSeconds?: number;
  /** This worker's host (HOST_ID). Default: the machine's name. */
  host?: string;
  /** Listen on this database for queued operations (starts them at once); without it, only the poll. */
  databaseUrl?: string;
  /** How often to look for dead workers' operations, lost jobs and expired environments. */
  reapEverySeconds?: number;
  /** A queued operation older than this whose job is no longer pending gets a new job (default 30 s). */
  lostAfterSeconds?: number;
  /** Fallback poll of the queues, in case a wake-up is missed (default 1 s). */
  pollMs?: number;
  workerId?: string;
  logger?: Logger;
  /** Told how many operations run after each start and end (the ECS task's scale-in protection). */
  onActiveChange?: (active: number) => void;
}

/** Why this worker stopped a run itself. */
type StopReason = "cancel" | "shutdown" | "timeout" | "lost";

interface Failure {
  status: "failed" | "cancelled" | "interrupted";
  code: string;
  message: string;
}

interface Running {
  stop: (reason: StopReason) => void;
  done: Promise<void>;
}

type ClaimedOperation = Prisma.OperationGetPayload<{ include: { environment: true; network: true } }>;
type OperationWithEnvironment = ClaimedOperation & {
  environment: NonNullable<ClaimedOperation["environment"]>;
};

const formatSeconds = (s: number) => (s >= 60 && s % 60 === 0 ? `${s / 60} min` : `${s} s`);

export class OperationWorker {
  readonly id: string;
  readonly host: string;
  private readonly running = new Map<string, Running>();
  /** Jobs taken: being claimed or running. */
  private slotsTaken = 0;
  private stopping = false;
  private reapTimer?: NodeJS.Timeout;
  private dispatcher?: JobDispatcher;
  private wakeup?: QueueWakeup;
  private pruning?: Promise<unknown>;
  private readonly logger: Logger;
  private readonly timeoutSeconds: number;

  constructor(private readonly o: WorkerOptions) {
    this.id = o.workerId ?? `worker-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.host = o.host ?? defaultHostId();
    // Every line names the worker and its host (once: a logger made with the host already carries it).
    const base = o.logger ?? silentLogger();
    this.logger = base.child({ worker: this.id, ...("host" in base.bindings() ? {} : { host: this.host }) });
    this.timeoutSeconds = o.operationTimeoutSeconds ?? 7200;
  }

  get activeOperations(): string[] {
    return [...this.running.keys()];
  }

  /** The queues this worker serves, its host's first. */
  get queues(): string[] {
    return [hostQueue(this.host), OPERATIONS_QUEUE];
  }

  async start(): Promise<void> {
    // Its queues exist, with pg-boss's expiry behind this worker's timeout (also on queues made earlier), before
    // it can run — and so own — any local environment: senders rely on the host's queue being there.
    for (const queue of this.queues) {
      await ensureQueue(this.o.boss, queue, this.timeoutSeconds + QUEUE_EXPIRY_MARGIN_SECONDS);
    }
    await this.reap();
    this.prune();
    this.dispatcher = new JobDispatcher({
      boss: this.o.boss,
      queues: this.queues,
      freeSlots: () => this.o.concurrency - this.slotsTaken,
      launch: (job) => this.launch(job),
      pollMs: this.o.pollMs ?? 1000,
      logger: this.logger,
    });
    if (this.o.databaseUrl) {
      this.wakeup = new QueueWakeup(
        this.o.databaseUrl,
        QUEUED_CHANNEL,
        () => this.dispatcher?.wake(),
        this.logger,
      );
      await this.wakeup.start();
    }
    this.dispatcher.start();
    let ticks = 0;
    this.reapTimer = setInterval(
      () => {
        void this.reap().catch((e) => this.logger.error({ err: e }, "reap failed"));
        if (++ticks % 60 === 0) this.prune();
      },
      (this.o.reapEverySeconds ?? 10) * 1000,
    );
    this.logger.info(
      {
        concurrency: this.o.concurrency,
        queues: this.queues,
        timeoutSeconds: this.timeoutSeconds,
      },
      "worker started",
    );
  }

  /** Stops taking jobs, asks running operations to stop, and waits for them (up to `graceMs`). */
  async stop(graceMs = 20_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.reapTimer);
    this.dispatcher?.stop();
    await this.wakeup?.stop();
    for (const r of this.running.values()) r.stop("shutdown");
    const all = Promise.allSettled([...this.running.values()].map((r) => r.done));
    await Promise.race([all, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
    await this.pruning;
    this.logger.info("worker stopped");
  }

  /** Runs a fetched job in a slot; the job is completed when its operation is over (or handed back). */
  private launch(job: FetchedJob): void {
    const { boss } = this.o;
    if (this.stopping) {
      // Handed back: the operation stays queued, and the lost-job check of a running worker re-sends it.
      void boss.fail(job.queue, job.id, { message: "the worker was stopping" }).catch(() => {});
      return;
    }
    this.slotsTaken++;
    void this.run(job.operationId, job.id)
      .catch((e) => this.logger.error({ err: e, operationId: job.operationId }, "operation run failed"))
      .finally(() => {
        this.slotsTaken--;
        void boss.complete(job.queue, job.id).catch(() => {});
        this.dispatcher?.wake();
      });
  }

  /** Runs one operation to its end. Returns at once if it is no longer queued (cancelled, done, claimed). */
  async run(operationId: string, jobId?: string): Promise<void> {
    if (this.stopping) return; // left queued: another worker (or this one after a restart) takes it
    const claim = await claimOperation(this.o.db, {
      operationId,
      workerId: this.id,
      host: this.host,
      jobId: jobId ?? null,
    });
    if (!claim.claimed) {
      if (claim.reason === "other-host") await this.forward(operationId, claim.host);
      return;
    }
    const op = await this.o.db.operation.findUniqueOrThrow({
      where: { id: operationId },
      include: { environment: true, network: true },
    });
    if (op.network) await this.executeNetwork(op, op.network);
    else if (op.environment) await this.execute({ ...op, environment: op.environment });
  }

  /** A job for a local environment another host runs: sent again, to that host's queue. */
  private async forward(operationId: string, host: string): Promise<void> {
    const op = await this.o.db.operation.findUnique({
      where: { id: operationId },
      include: { environment: true },
    });
    if (op?.status !== "queued" || !op.environment) return;
    const jobId = randomUUID();
    const moved = await this.o.db.operation.updateMany({
      where: { id: operationId, status: "queued" },
      data: { jobId },
    });
    if (moved.count === 0) return;
    await enqueueOperation(this.o.boss, operationId, op.environment.name, jobId);
    this.logger.info(
      { operationId, environment: op.environment.name, owner: host },
      "operation belongs to another host's worker: sent to its queue",
    );
  }

  private async execute(op: OperationWithEnvironment): Promise<void> {
    const { db } = this.o;
    const env = op.environment;
    const kind = op.kind as OperationKind;
    const log = this.logger.child({ operationId: op.id, environment: env.name, environmentId: env.id, kind });
    // The stored request is the operations' spec itself; they validate it before any Pulumi run.
    const spec = op.requestedConfig as unknown as EnvironmentSpec;
    const ref = { name: spec.name, target: spec.target };
    const before = async () => {
      if (changesEnvironment(kind)) {
        await db.environment.updateMany({
          where: { id: env.id, lastOperationId: op.id },
          data: { status: statusWhileRunning(kind, env.currentFrontendReplicas === null) },
        });
      }
    };
    const ended = await this.runWithEvents(op, kind, log, before, async (runOptions, sink, signal) => {
      // An AWS environment lives in its region's network: a create or scale waits while that is being made.
      if (spec.target === "aws" && spec.aws && kind !== "destroy" && kind !== "refresh") {
        const network = spec.aws.network ?? defaultNetworkName(spec.aws.region);
        await waitForNetwork(db, network, signal, (message) => sink.note("notice", message));
      }
      if (kind === "create" || kind === "scale" || kind === "reconcile")
        return await this.o.ops.up(spec, runOptions);
      if (kind === "preview") return await this.o.ops.preview(spec, runOptions);
      if (kind === "refresh") return await this.o.ops.refresh(ref, runOptions);
      return await this.o.ops.destroy(ref, runOptions);
    });
    if (ended) await this.record(op, kind, spec, ended.result, ended.failure, log);
  }

  /** A network's operation: create (up), refresh or destroy of its stack, through the network operations. */
  private async executeNetwork(
    op: ClaimedOperation,
    network: NonNullable<ClaimedOperation["network"]>,
  ): Promise<void> {
    const { db } = this.o;
    const kind = op.kind as OperationKind;
    const log = this.logger.child({ operationId: op.id, network: network.name, networkId: network.id, kind });
    const spec = op.requestedConfig as unknown as NetworkSpec;
    const ended = await this.runWithEvents(
      op,
      kind,
      log,
      () => markNetworkRunning(db, op.id, network.id, kind),
      async (runOptions) => {
        const ops = this.o.networks;
        if (!ops) {
          throw Object.assign(
            new Error("this worker has no network operations (AWS is not configured here)"),
            {
              code: "unknown",
            },
          );
        }
        if (kind === "create") return await ops.up(spec, runOptions);
        if (kind === "refresh") return await ops.refresh({ name: network.name }, runOptions);
        if (kind === "destroy") return await ops.destroy({ name: network.name }, runOptions);
        throw Object.assign(new Error(`a network has no ${kind} operation`), { code: "invalid-input" });
      },
    );
    if (!ended) return;
    const { result, failure } = ended;
    const status = failure?.status ?? "succeeded";
    const outputs = (result?.outputs ?? null) as Prisma.InputJsonValue | null;
    const seconds = await db.$transaction(async (tx) => {
      const ran = await this.finishRun(tx, op.id, kind, result, failure);
      if (ran !== null) await recordNetworkOutcome(tx, op.id, network.id, kind, status, outputs);
      return ran;
    });
    await this.recorded(op.id, kind, status, failure, seconds, log);
  }

  /**
   * The frame of every operation's run: the running slot, its status before the run (`before`), the event
   * sink (log, progress), the heartbeat (which also notices a cancel request or a lost operation), the time
   * limit, and the mapping of an error to a failed, cancelled or interrupted outcome.
   */
  private async runWithEvents<R extends { durationMs: number }>(
    op: { id: string; requestedBy: string },
    kind: OperationKind,
    log: Logger,
    before: () => Promise<void>,
    run: (options: RunOptions, sink: EventSink, signal: AbortSignal) => Promise<R>,
  ): Promise<{ result?: R; failure?: Failure } | undefined> {
    const { db } = this.o;
    const controller = new AbortController();
    let stopReason: StopReason | undefined;
    const stop = (reason: StopReason) => {
      if (controller.signal.aborted) return;
      stopReason = reason;
      controller.abort(new Error(reason));
    };
    let finish!: () => void;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    this.running.set(op.id, { stop, done });
    this.o.onActiveChange?.(this.running.size);
    try {
      await before();
      countOperationStarted(kind);
      log.info({ requestedBy: op.requestedBy }, "operation started");
      const sink = new EventSink(db, op.id, { maxEvents: this.o.eventsPerOperation, logger: log });
      sink.note(
        "status",
        `${kind} started by ${this.id} on host ${this.host} (requested by ${op.requestedBy})`,
      );
      const beat = setInterval(() => void this.beat(op.id, stop, log), this.o.heartbeatSeconds * 1000);
      const timeout = setTimeout(() => stop("timeout"), this.timeoutSeconds * 1000);
      const runOptions = { signal: controller.signal, onEvent: sink.push };
      let result: R | undefined;
      let failure: Failure | undefined;
      try {
        result = await run(runOptions, sink, controller.signal);
      } catch (error) {
        failure = this.failureOf(error, stopReason);
      } finally {
        clearInterval(beat);
        clearTimeout(timeout);
      }
      if (failure) sink.note("status", `${kind} ${failure.status}: ${failure.message}`, "error");
      else sink.note("status", `${kind} succeeded in ${((result?.durationMs ?? 0) / 1000).toFixed(1)} s`);
      const unwritten = await sink.close();
      if (unwritten > 0) log.error({ unwritten }, "some events of the operation could not be written");
      return { result, failure };
    } finally {
      this.running.delete(op.id);
      this.o.onActiveChange?.(this.running.size);
      finish();
    }
  }

  private failureOf(error: unknown, stopReason: StopReason | undefined): Failure {
    const code = (error as { code?: string }).code ?? "unknown";
    const message = error instanceof Error ? error.message : String(error);
    switch (stopReason) {
      case "timeout":
        return {
          status: "failed",
          code: "timed-out",
          message: `timed out: stopped after ${formatSeconds(this.timeoutSeconds)}, the longest an operation may run (OPERATION_TIMEOUT_MINUTES); retry it, or raise the limit`,
        };
      case "shutdown":
        return {
          status: "interrupted",
          code: "interrupted",
          message: `the worker shut down while it ran (${message})`,
        };
      case "lost":
        return {
          status: "interrupted",
          code: "interrupted",
          message: "stopped: the operation was no longer this worker's (marked interrupted while it ran)",
        };
      case "cancel":
        return { status: "cancelled", code: "cancelled", message };
      default:
        return code === "cancelled"
          ? { status: "cancelled", code, message }
          : { status: "failed", code, message };
    }
  }

  /**
   * Finishes operation `operationId` with this run's outcome, in `tx`, if it is still this worker's and running
   * (else null). Its seconds of run time otherwise.
   */
  private finishRun(
    tx: Prisma.TransactionClient,
    operationId: string,
    kind: OperationKind,
    result: { outputs?: unknown; changes?: unknown } | undefined,
    failure: Failure | undefined,
  ): Promise<number | null> {
    const outputs = (result?.outputs ?? null) as Prisma.InputJsonValue | null;
    return finishOperation(tx, {
      operationId,
      workerId: this.id,
      status: failure?.status ?? "succeeded",
      errorCode: failure?.code ?? null,
      error: failure?.message.slice(0, 8000) ?? null,
      ...(outputs && changesEnvironment(kind) ? { outputs } : {}),
      changes: (result?.changes ?? null) as Prisma.InputJsonValue | null,
    });
  }

  /** Records the end of `op`, if it is still this worker's and running; else says why it was not. */
  private async record(
    op: OperationWithEnvironment,
    kind: OperationKind,
    spec: EnvironmentSpec,
    result: OperationResult | undefined,
    failure: Failure | undefined,
    log: Logger,
  ): Promise<void> {
    const status = failure?.status ?? "succeeded";
    const outputs = (result?.outputs ?? null) as Prisma.InputJsonValue | null;
    const seconds = await this.o.db.$transaction(async (tx) => {
      const ran = await this.finishRun(tx, op.id, kind, result, failure);
      if (ran === null || !changesEnvironment(kind)) return ran;
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
        where: { id: op.environment.id, lastOperationId: op.id },
        data: envData,
      });
      return ran;
    });
    await this.recorded(op.id, kind, status, failure, seconds, log);
  }

  /** After the record transaction: metrics and logs, or why the result was not recorded (`seconds` null). */
  private async recorded(
    operationId: string,
    kind: OperationKind,
    status: Failure["status"] | "succeeded",
    failure: Failure | undefined,
    seconds: number | null,
    log: Logger,
  ): Promise<void> {
    if (seconds === null) {
      const now = await currentOwner(this.o.db, operationId);
      const why = `this run's result (${status}) was not recorded: the operation is ${now?.status ?? "gone"}${
        now?.workerId && now.workerId !== this.id ? ` and belongs to ${now.workerId}` : ""
      }`;
      log.warn({ status, current: now?.status }, why);
      if (now) {
        await this.o.db.operationEvent
          .create({ data: { operationId, type: "notice", severity: "warning", message: why } })
          .catch(() => {});
      }
      return;
    }
    const label: OperationResultLabel = failure?.code === "timed-out" ? "timed-out" : status;
    countOperationFinished(kind, label, seconds);
    const fields = { status, seconds, errorCode: failure?.code };
    if (failure) log.warn({ ...fields, error: failure.message }, "operation finished");
    else log.info(fields, "operation finished");
  }

  /** Records that this worker is alive; stops the run when it lost the operation or someone cancelled it. */
  private async beat(operationId: string, stop: (reason: StopReason) => void, log: Logger): Promise<void> {
    try {
      const r = await heartbeat(this.o.db, operationId, this.id);
      if (!r.alive) {
        log.warn("the operation is no longer this worker's running one: stopping its run");
        stop("lost");
      } else if (r.cancelRequested) stop("cancel");
    } catch (e) {
      log.warn({ err: e }, "heartbeat failed");
    }
  }

  /** May this worker clear the stack lock and orphans of `env`? Not a local environment another host runs. */
  private mayRecover(env: NonNullable<StaleOperation["environment"]>): boolean {
    return env.target !== "local" || !env.host || env.host === this.host;
  }

  /**
   * Marks operations whose worker stopped beating as interrupted and clears their stack locks, re-sends
   * queued operations whose job went missing, and requests the destroy of expired environments.
   */
  async reap(): Promise<string[]> {
    const { db, boss } = this.o;
    const stale = await interruptStaleOperations(db, this.o.staleAfterSeconds, this.activeOperations);
    for (const op of stale) {
      countOperationFinished(op.kind, "interrupted", op.seconds);
      const notes: string[] = [op.message];
      if (op.jobId) {
        for (const queue of this.queuesOf(op.environment))
          await boss.fail(queue, op.jobId, { message: op.message }).catch(() => {});
      }
      const env = op.environment;
      if (op.network) {
        // A network stack is an AWS one: any worker with the network operations may clear its lock.
        try {
          if (!this.o.networks) throw new Error("this worker has no network operations");
          await this.o.networks.recover({ name: op.network.name });
          notes.push("stack lock cleared; the operation can be retried");
        } catch (e) {
          notes.push(`could not clear the stack lock: ${e instanceof Error ? e.message : e}`);
        }
      } else if (env && this.mayRecover(env)) {
        try {
          await this.o.ops.recover({ name: env.name, target: env.target });
          notes.push("stack lock cleared; the operation can be retried");
        } catch (e) {
          notes.push(`could not clear the stack lock: ${e instanceof Error ? e.message : e}`);
        }
      } else if (env) {
        notes.push(
          `the worker of host ${env.host}, which runs this environment, clears its stack lock at its next operation; the operation can be retried`,
        );
      }
      await db.operationEvent.createMany({
        data: notes.map((m) => ({ operationId: op.id, type: "notice", severity: "warning", message: m })),
      });
      this.logger.warn(
        {
          operationId: op.id,
          ...(env ? { environment: env.name } : { network: op.network?.name }),
          kind: op.kind,
          deadWorker: op.workerId,
        },
        op.message,
      );
    }
    for (const id of await resendLostJobs(db, boss, this.o.lostAfterSeconds ?? 30)) {
      this.logger.info({ operationId: id }, "operation had no pending job: re-sent");
    }
    await this.expire();
    return stale.map((s) => s.id);
  }

  private queuesOf(env: StaleOperation["environment"]): string[] {
    return env?.target === "local" && env.host ? [hostQueue(env.host), OPERATIONS_QUEUE] : [OPERATIONS_QUEUE];
  }

  /** Requests the destroy of environments whose time-to-live has passed. */
  async expire(): Promise<string[]> {
    const round = await destroyExpired(this.o.db, this.o.boss);
    for (const name of round.requested) {
      this.logger.info({ environment: name }, "time-to-live passed: destroy requested");
    }
    for (const f of round.failed) {
      this.logger.error(
        { environment: f.name, error: f.error },
        "time-to-live destroy could not be requested",
      );
    }
    return round.requested;
  }

  /** Deletes events of operations that finished more than the retention period ago (in the background). */
  prune(): Promise<PruneResult | undefined> {
    if (this.pruning) return this.pruning as Promise<PruneResult | undefined>;
    const pruning = pruneOldEvents(this.o.db, this.o.eventRetentionDays, { shouldStop: () => this.stopping })
      .then((r) => {
        if (r.deleted > 0) this.logger.info(r, "old operation events pruned");
        return r;
      })
      .catch((e) => {
        this.logger.error({ err: e }, "prune failed");
        return undefined;
      })
      .finally(() => {
        this.pruning = undefined;
      });
    this.pruning = pruning;
    return pruning;
  }
}
