import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * Prometheus metrics. Each app instance owns its registry (not prom-client's global one), so several
 * instances in one process (tests) do not collide.
 */
export interface AppMetrics {
  registry: Registry;
  votes: Counter<"option">;
  httpDuration: Histogram<"method" | "route" | "status_code">;
  storeUp: Gauge<"role">;
}

export function createMetrics(options: readonly string[]): AppMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const votes = new Counter({
    name: "votes_total",
    help: "Votes counted by this replica, by option",
    labelNames: ["option"],
    registers: [registry],
  });
  // Start every option at 0 so the series exist before the first vote (rate() works from the start).
  for (const option of options) votes.inc({ option }, 0);
  const httpDuration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request duration in seconds, by method, route and status code",
    labelNames: ["method", "route", "status_code"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const storeUp = new Gauge({
    name: "vote_store_up",
    help: "1 when the Redis connection (primary or replica) is ready, else 0",
    labelNames: ["role"],
    registers: [registry],
  });
  return { registry, votes, httpDuration, storeUp };
}
