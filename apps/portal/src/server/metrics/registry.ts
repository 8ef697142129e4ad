// The start command's Prometheus registry (worker and fleet metrics, and this process's own figures). The
// web process has its own (web-metrics.ts); the start command's metrics listener serves both.
import { collectDefaultMetrics, Registry } from "prom-client";

const holder = globalThis as unknown as { __portalRegistry?: Registry };

export function processRegistry(): Registry {
  if (!holder.__portalRegistry) {
    const registry = new Registry();
    // Node and process figures (CPU, memory, event-loop lag) of the start command, which runs the worker.
    collectDefaultMetrics({ register: registry, prefix: "portal_" });
    holder.__portalRegistry = registry;
  }
  return holder.__portalRegistry;
}
