// Drift detection's figures, for the drift checker (a worker module) to report: call `countDriftCheck` after
// each check of an environment and `setEnvironmentsDrifted` with the current total after a round.
import { Counter, Gauge } from "prom-client";
import { processRegistry } from "./registry";

interface DriftMetrics {
  checks: Counter<"target" | "result">;
  drifted: Gauge<"target">;
}

const holder = globalThis as unknown as { __portalDriftMetrics?: DriftMetrics };

function metrics(): DriftMetrics {
  if (!holder.__portalDriftMetrics) {
    const registers = [processRegistry()];
    holder.__portalDriftMetrics = {
      checks: new Counter({
        name: "portal_drift_checks_total",
        help: "Drift checks of environments, by target and result (in-sync, drifted, error)",
        labelNames: ["target", "result"],
        registers,
      }),
      drifted: new Gauge({
        name: "portal_environments_drifted",
        help: "Environments whose last drift check found a difference, by target",
        labelNames: ["target"],
        registers,
      }),
    };
  }
  return holder.__portalDriftMetrics;
}

/** One environment checked: `drifted` when it differs from what was asked, `error` when the check failed. */
export function countDriftCheck(target: string, result: "in-sync" | "drifted" | "error"): void {
  metrics().checks.inc({ target, result });
}

export function setEnvironmentsDrifted(target: string, count: number): void {
  metrics().drifted.set({ target }, count);
}

/** Registers the drift metrics (at 0) so they are visible before the first check. */
export function registerDriftMetrics(): void {
  metrics();
}
