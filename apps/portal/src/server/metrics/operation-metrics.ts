// What workers did: operations started and finished (by kind and result) and how long they took. Counted
// by the worker process that ran (or, for a dead worker's operation, interrupted) each operation.
import { Counter, Histogram } from "prom-client";
import { processRegistry } from "./registry";

/** How an operation ended, for the `result` label: its status, or `timed-out`. */
export type OperationResultLabel = "succeeded" | "failed" | "cancelled" | "interrupted" | "timed-out";

interface OperationMetrics {
  started: Counter<"kind">;
  finished: Counter<"kind" | "result">;
  duration: Histogram<"kind" | "result">;
}

const holder = globalThis as unknown as { __portalOperationMetrics?: OperationMetrics };

function metrics(): OperationMetrics {
  if (!holder.__portalOperationMetrics) {
    const registers = [processRegistry()];
    holder.__portalOperationMetrics = {
      started: new Counter({
        name: "portal_operations_started_total",
        help: "Operations a worker of this process started, by kind",
        labelNames: ["kind"],
        registers,
      }),
      finished: new Counter({
        name: "portal_operations_finished_total",
        help: "Operations that ended, by kind and result (succeeded, failed, cancelled, interrupted, timed-out)",
        labelNames: ["kind", "result"],
        registers,
      }),
      duration: new Histogram({
        name: "portal_operation_duration_seconds",
        help: "Time from start to end of an operation (database clock), by kind and result",
        labelNames: ["kind", "result"],
        buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200],
        registers,
      }),
    };
  }
  return holder.__portalOperationMetrics;
}

export function countOperationStarted(kind: string): void {
  metrics().started.inc({ kind });
}

export function countOperationFinished(kind: string, result: OperationResultLabel, seconds?: number): void {
  metrics().finished.inc({ kind, result });
  if (seconds !== undefined && Number.isFinite(seconds) && seconds >= 0)
    metrics().duration.observe({ kind, result }, seconds);
}
