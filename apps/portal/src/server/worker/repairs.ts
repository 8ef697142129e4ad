// What the local target's supervisors repaired by themselves, into the operation history: every few seconds
// the worker reads each local environment's process events (on the machine that runs it) and records what
// was replaced as one `repair` entry — finished, requested by "supervisor", never queued nor run. A process the
// supervisor gave up on (it kept failing to start) is recorded as a failed repair, and the environment's next
// drift check is brought forward: it is now drifted, and the page offers a reconcile.
import type { Prisma, PrismaClient } from "@platform/db/client";
import type { Repair, RepairCursor } from "@platform/infra/types";
import { configOf } from "../../features/environments/commands";
import type { EnvironmentOperations } from "./operations-contract";

export interface RepairRecorderOptions {
  db: PrismaClient;
  ops: EnvironmentOperations;
  /** How often to read the supervisors' events; 0: never. */
  scanSeconds: number;
  log?: (line: string) => void;
}

/** Who a repair entry says requested it. */
export const SUPERVISOR_ACTOR = "supervisor";

/** One line of the history's detail for a repair. */
export function describeRepair(r: Repair): string {
  const was = r.pid ? ` (pid ${r.pid})` : "";
  if (r.outcome === "restarted") {
    const took = r.downMs !== undefined ? ` after ${(r.downMs / 1000).toFixed(1)} s` : "";
    return `${r.process}${was} exited unexpectedly; the supervisor started it again${r.newPid ? ` as pid ${r.newPid}` : ""}${took}.`;
  }
  return `${r.process}${was} exited and kept failing to start: the supervisor gave up. Reconcile to start it again.`;
}

export class RepairRecorder {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;
  private readonly log: (line: string) => void;

  constructor(private readonly o: RepairRecorderOptions) {
    this.log = o.log ?? ((line) => console.log(`[repairs] ${line}`));
  }

  start(): void {
    if (this.o.scanSeconds <= 0 || typeof this.o.ops.readRepairs !== "function") return;
    const tick = () => {
      if (this.running || this.stopped) return;
      this.running = this.scan()
        .catch((e) => this.log(`reading repairs failed: ${e instanceof Error ? e.message : e}`))
        .finally(() => {
          this.running = undefined;
        });
    };
    this.timer = setInterval(tick, this.o.scanSeconds * 1000);
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Records what every local environment's supervisor repaired since the last scan; returns the entries made. */
  async scan(): Promise<string[]> {
    const { db, ops } = this.o;
    if (!ops.readRepairs) return [];
    const environments = await db.environment.findMany({
      where: { deletedAt: null, target: "local", status: { notIn: ["queued", "destroyed"] } },
      select: { id: true, name: true, drift: { select: { repairCursor: true } } },
    });
    const recorded: string[] = [];
    for (const env of environments) {
      const ref = { name: env.name, target: "local" as const };
      if (!(ops.hostsEnvironment?.(ref) ?? true)) continue;
      // A look first, without a transaction: most scans find nothing new.
      const stored = (env.drift?.repairCursor ?? undefined) as RepairCursor | undefined;
      const peek = await ops.readRepairs(ref, stored);
      if (
        !peek ||
        (peek.repairs.length === 0 && JSON.stringify(peek.cursor) === JSON.stringify(stored ?? null))
      ) {
        continue;
      }
      const id = await this.recordFor(env.id);
      if (id) recorded.push(id);
    }
    return recorded;
  }

  /**
   * Reads one environment's new events and records them, inside one transaction that holds its drift row: two
   * workers on one machine never record the same repair twice, and the cursor moves only with the record.
   */
  private async recordFor(environmentId: string): Promise<string | undefined> {
    const { db, ops } = this.o;
    return await db.$transaction(async (tx) => {
      await tx.$executeRaw`
        INSERT INTO environment_drift (environment_id, updated_at) VALUES (${environmentId}::uuid, now())
        ON CONFLICT (environment_id) DO NOTHING`;
      const [row] = await tx.$queryRaw<{ repair_cursor: RepairCursor | null }[]>`
        SELECT repair_cursor FROM environment_drift WHERE environment_id = ${environmentId}::uuid FOR UPDATE`;
      const env = await tx.environment.findUniqueOrThrow({ where: { id: environmentId } });
      const read = await ops.readRepairs?.(
        { name: env.name, target: env.target },
        row?.repair_cursor ?? undefined,
      );
      if (!read) return undefined;
      const moved = JSON.stringify(read.cursor) !== JSON.stringify(row?.repair_cursor ?? null);
      const gaveUp = read.repairs.some((r) => r.outcome === "gave-up");
      if (moved || read.repairs.length) {
        await tx.environmentDrift.update({
          where: { environmentId },
          data: {
            repairCursor: read.cursor as unknown as Prisma.InputJsonValue,
            // A service given up on is drift: check now rather than at the next scheduled time.
            ...(gaveUp ? { checkedAt: null } : {}),
          },
        });
      }
      if (read.repairs.length === 0) return undefined;
      const first = read.repairs[0] as Repair;
      const last = read.repairs.at(-1) as Repair;
      const restarted = read.repairs.filter((r) => r.outcome === "restarted").length;
      const op = await tx.operation.create({
        data: {
          environmentId,
          kind: "repair",
          status: gaveUp ? "failed" : "succeeded",
          requestedConfig: configOf(env) as unknown as Prisma.InputJsonValue,
          requestedBy: SUPERVISOR_ACTOR,
          createdAt: new Date(first.exitedAt),
          startedAt: new Date(first.exitedAt),
          finishedAt: new Date(last.at),
          progressDone: read.repairs.length,
          progressExpected: read.repairs.length,
          changes: { replace: restarted, ...(gaveUp ? { delete: read.repairs.length - restarted } : {}) },
          ...(gaveUp
            ? {
                errorCode: "gave-up",
                error: read.repairs
                  .filter((r) => r.outcome === "gave-up")
                  .map(describeRepair)
                  .join(" "),
              }
            : {}),
        },
      });
      await tx.operationEvent.createMany({
        data: read.repairs.map((r) => ({
          operationId: op.id,
          type: "repair",
          severity: r.outcome === "restarted" ? "info" : "error",
          message: describeRepair(r),
          data: r as unknown as Prisma.InputJsonValue,
          createdAt: new Date(r.at),
        })),
      });
      this.log(`${env.name}: ${read.repairs.map(describeRepair).join(" ")}`);
      return op.id;
    });
  }
}
