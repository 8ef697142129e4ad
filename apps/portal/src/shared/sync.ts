// Whether an environment is what was asked for, and if not, why: the counts deployed differ from the counts
// asked for, the last refresh found something gone or changed, or the last drift check (a refresh preview,
// run by the workers on a schedule) found reality differing from the Pulumi state. Pure: the list, the detail
// page and the tests use it; a reconcile (an up with the counts asked for) is offered whenever it says so.
import type { EnvironmentStatus, OperationKind, OperationStatus } from "./status";

export interface DriftDifference {
  name: string;
  type: string;
  op: string;
}

export interface SyncInput {
  status: EnvironmentStatus;
  desiredFrontendReplicas: number;
  desiredRedisReplicas: number;
  currentFrontendReplicas: number | null;
  currentRedisReplicas: number | null;
  lastOperation: {
    kind: OperationKind;
    status: OperationStatus;
    finishedAt: Date | null;
    changes: unknown;
  } | null;
  drift: {
    status: "in_sync" | "drifted" | "failed" | null;
    checkedAt: Date | null;
    differences: unknown;
    error: string | null;
  } | null;
}

export interface SyncReport {
  /** Something differs from what was asked: offer a reconcile. */
  drifted: boolean;
  /** One sentence per finding, shown as is. */
  reasons: string[];
  /** The last drift check that counts (finished after the last operation), if any. */
  lastCheck?: { at: Date; inSync: boolean; failed?: string };
}

const OP_WORDS: Record<string, string> = {
  delete: "is gone",
  update: "has changed",
  replace: "has changed",
  create: "is missing",
};

/** "frontend-1 (VotingApp) is gone" */
export function describeDifference(d: DriftDifference): string {
  return `${d.name} (${d.type}) ${OP_WORDS[d.op] ?? `differs (${d.op})`}`;
}

function listOf(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

function differencesOf(value: unknown): DriftDifference[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (d): d is DriftDifference =>
      typeof d === "object" && d !== null && typeof d.name === "string" && typeof d.op === "string",
  );
}

function summary(changes: unknown): string {
  const entries = Object.entries((changes ?? {}) as Record<string, number>).filter(
    ([op, n]) => op !== "same" && typeof n === "number" && n > 0,
  );
  return entries
    .map(([op, n]) => `${n} ${op === "delete" ? "gone" : op === "update" ? "changed" : op}`)
    .join(", ");
}

export function syncOf(env: SyncInput): SyncReport {
  const reasons: string[] = [];
  const op = env.lastOperation;
  const busy = op?.status === "queued" || op?.status === "running";
  // Only a settled, ready environment can be compared with what was asked (otherwise the status says more).
  if (env.status !== "ready" || busy) return { drifted: false, reasons };

  const tiers: [string, number | null, number][] = [
    ["Frontends", env.currentFrontendReplicas, env.desiredFrontendReplicas],
    ["Redis nodes", env.currentRedisReplicas, env.desiredRedisReplicas],
  ];
  for (const [tier, current, desired] of tiers) {
    if (current !== null && current !== desired)
      reasons.push(`${tier}: ${desired} asked for, ${current} running.`);
  }

  if (op?.kind === "refresh" && op.status === "succeeded") {
    const found = summary(op.changes);
    if (found) reasons.push(`The last refresh found: ${found}.`);
  }

  let lastCheck: SyncReport["lastCheck"];
  const d = env.drift;
  // A check counts only if it finished after the last operation (an operation changes what it compared).
  if (d?.status && d.checkedAt && (!op?.finishedAt || d.checkedAt > op.finishedAt)) {
    lastCheck = {
      at: d.checkedAt,
      inSync: d.status === "in_sync",
      ...(d.status === "failed" ? { failed: d.error ?? "the check failed" } : {}),
    };
    if (d.status === "drifted") {
      const found = differencesOf(d.differences).map(describeDifference);
      reasons.push(
        found.length
          ? `The drift check found ${listOf(found)}.`
          : "The drift check found the environment different from its state.",
      );
    }
  }
  return { drifted: reasons.length > 0, reasons, ...(lastCheck ? { lastCheck } : {}) };
}
