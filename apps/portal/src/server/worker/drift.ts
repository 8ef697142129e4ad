// Drift detection on a schedule: one environment at a time, each worker process compares a ready environment's
// Pulumi state with reality (a refresh preview: it changes neither) and records what differs, which the list
// and the detail page show as "Drifted" with a one-click reconcile.
//
// One operation per environment: an environment with a queued or running operation is not checked, and a
// check that an operation overtook (requested while it ran) is thrown away, since that operation changes what
// it compared. The check itself never blocks an operation: it takes no stack lock and does no recovery. Workers
// share the work through a claim on the environment's drift row (a stale claim, from a worker that died, is
// taken over after 15 minutes).
import type { PrismaClient } from "@platform/db/client";
import { countDriftCheck, setEnvironmentsDrifted } from "../metrics/drift-metrics";
import type { EnvironmentOperations } from "./operations-contract";

export interface DriftMonitorOptions {
  db: PrismaClient;
  ops: EnvironmentOperations;
  /** How long a check stays current, per target; 0 turns checks off for that target. */
  localSeconds: number;
  awsSeconds: number;
  /** How often to look for an environment due for a check (default 5 s). */
  tickSeconds?: number;
  workerId: string;
  log?: (line: string) => void;
}

export interface DriftCheckOutcome {
  environment: string;
  /** `discarded`: an operation was requested meanwhile, so the answer was stale. */
  result: "in_sync" | "drifted" | "failed" | "discarded";
}

interface Candidate {
  id: string;
  name: string;
  target: "local" | "aws";
  last_operation_id: string | null;
}

const CLAIM_EXPIRES = "15 minutes";

export class DriftMonitor {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private current?: AbortController;
  private stopped = false;
  private readonly log: (line: string) => void;

  constructor(private readonly o: DriftMonitorOptions) {
    this.log = o.log ?? ((line) => console.log(`[drift ${o.workerId}] ${line}`));
  }

  /** True when some target has checks on and the operations can check. */
  get enabled(): boolean {
    return (this.o.localSeconds > 0 || this.o.awsSeconds > 0) && typeof this.o.ops.detectDrift === "function";
  }

  start(): void {
    if (!this.enabled) return;
    const tick = () => {
      if (this.running || this.stopped) return;
      this.running = this.checkDue()
        .catch((e) => this.log(`drift check failed: ${e instanceof Error ? e.message : e}`))
        .finally(() => {
          this.running = undefined;
        });
    };
    this.timer = setInterval(tick, (this.o.tickSeconds ?? 5) * 1000);
    tick();
    this.log(
      `drift checks every ${this.o.localSeconds || "–"} s (local), ${this.o.awsSeconds || "–"} s (aws); 0 or – means off`,
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.current?.abort(new Error("worker stopping"));
    await this.running;
  }

  /** Checks every environment that is due, one after another. */
  async checkDue(): Promise<DriftCheckOutcome[]> {
    const outcomes: DriftCheckOutcome[] = [];
    for (;;) {
      if (this.stopped) return outcomes;
      const outcome = await this.checkNext();
      if (!outcome) {
        if (outcomes.length) await this.reportDrifted();
        return outcomes;
      }
      outcomes.push(outcome);
    }
  }

  /** The drifted-environments gauge, per target, from the database (every worker reports the same). */
  private async reportDrifted(): Promise<void> {
    const rows = await this.o.db.$queryRaw<{ target: string; n: number }[]>`
      SELECT e.target::text AS target, count(d.environment_id)::int AS n
        FROM environments e
        LEFT JOIN environment_drift d ON d.environment_id = e.id AND d.status = 'drifted'
       WHERE e.deleted_at IS NULL AND e.status <> 'destroyed'
       GROUP BY e.target`;
    for (const target of ["local", "aws"]) {
      setEnvironmentsDrifted(target, rows.find((r) => r.target === target)?.n ?? 0);
    }
  }

  /** Claims the environment most overdue for a check and checks it; undefined when none is due. */
  async checkNext(): Promise<DriftCheckOutcome | undefined> {
    const { db, ops } = this.o;
    if (!ops.detectDrift) return undefined;
    const local = this.o.localSeconds;
    const aws = this.o.awsSeconds;
    const due = await db.$queryRaw<Candidate[]>`
      SELECT e.id, e.name, e.target::text AS target, e.last_operation_id
        FROM environments e
        LEFT JOIN environment_drift d ON d.environment_id = e.id
       WHERE e.deleted_at IS NULL AND e.status = 'ready'
         AND ((e.target = 'local' AND ${local}::int > 0
               AND (d.checked_at IS NULL OR d.checked_at < now() - make_interval(secs => ${local}::int)))
           OR (e.target = 'aws' AND ${aws}::int > 0
               AND (d.checked_at IS NULL OR d.checked_at < now() - make_interval(secs => ${aws}::int))))
         AND (d.checking_since IS NULL OR d.checking_since < now() - ${CLAIM_EXPIRES}::interval)
         AND NOT EXISTS (SELECT 1 FROM operations o
                          WHERE o.environment_id = e.id AND o.status IN ('queued', 'running'))
       ORDER BY d.checked_at ASC NULLS FIRST, e.created_at ASC
       LIMIT 20`;
    for (const env of due) {
      // A local environment is checked on the machine that runs it (its processes are there).
      if (!(ops.hostsEnvironment?.({ name: env.name, target: env.target }) ?? true)) continue;
      if (!(await this.claim(env.id))) continue; // another worker took it
      return await this.check(env);
    }
    return undefined;
  }

  private async claim(environmentId: string): Promise<boolean> {
    const claimed = await this.o.db.$queryRaw<{ environment_id: string }[]>`
      INSERT INTO environment_drift (environment_id, checking_by, checking_since, updated_at)
      VALUES (${environmentId}::uuid, ${this.o.workerId}, now(), now())
      ON CONFLICT (environment_id) DO UPDATE
        SET checking_by = EXCLUDED.checking_by, checking_since = now(), updated_at = now()
        WHERE environment_drift.checking_since IS NULL
           OR environment_drift.checking_since < now() - ${CLAIM_EXPIRES}::interval
      RETURNING environment_id`;
    return claimed.length === 1;
  }

  private async check(env: Candidate): Promise<DriftCheckOutcome> {
    const { db, ops } = this.o;
    const controller = new AbortController();
    this.current = controller;
    const started = Date.now();
    let report: Awaited<ReturnType<NonNullable<EnvironmentOperations["detectDrift"]>>> | undefined;
    let error: string | undefined;
    try {
      report = await ops.detectDrift?.({ name: env.name, target: env.target }, { signal: controller.signal });
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    } finally {
      this.current = undefined;
    }
    // An operation requested meanwhile changes what was compared: the answer is stale, keep none.
    const now = await db.environment.findUnique({
      where: { id: env.id },
      select: { lastOperationId: true, status: true },
    });
    if (!now || now.lastOperationId !== env.last_operation_id || controller.signal.aborted) {
      await db.environmentDrift.updateMany({
        where: { environmentId: env.id, checkingBy: this.o.workerId },
        data: { checkingBy: null, checkingSince: null },
      });
      return { environment: env.name, result: "discarded" };
    }
    const result = error ? "failed" : report?.drifted ? "drifted" : "in_sync";
    countDriftCheck(env.target, result === "failed" ? "error" : result === "in_sync" ? "in-sync" : "drifted");
    await db.$executeRaw`
      UPDATE environment_drift
         SET status = ${result}::"DriftStatus", checked_at = now(),
             drifted_since = CASE WHEN ${result} = 'drifted' THEN coalesce(drifted_since, now()) END,
             changes = ${JSON.stringify(report?.changes ?? null)}::jsonb,
             differences = ${JSON.stringify(report?.differences ?? null)}::jsonb,
             error = ${error?.slice(0, 4000) ?? null}, duration_ms = ${Date.now() - started}::int,
             checking_by = NULL, checking_since = NULL, updated_at = now()
       WHERE environment_id = ${env.id}::uuid AND checking_by = ${this.o.workerId}`;
    if (result === "drifted") {
      const what = (report?.differences ?? []).map((d) => `${d.name} ${d.op}`).join(", ");
      this.log(`${env.name} has drifted: ${what || JSON.stringify(report?.changes)}`);
    } else if (result === "failed") {
      this.log(`drift check of ${env.name} failed: ${error}`);
    }
    return { environment: env.name, result };
  }
}
