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
  /** Votes refused, by reason (`backlog_full`: the database has been away too long). */
  votesRejected: Counter<"reason">;
  /** Durable mode (with a database) only; registered by `addDatabaseMetrics`. */
  database?: DatabaseMetrics;
}

export interface DatabaseMetrics {
  up: Gauge;
  writes: Counter;
  writtenVotes: Counter;
  writeDuration: Histogram;
  rebuilds: Counter<"kind">;
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
  const votesRejected = new Counter({
    name: "votes_rejected_total",
    help: "Votes refused by this replica, by reason (backlog_full: too many votes wait for the database)",
    labelNames: ["reason"],
    registers: [registry],
  });
  return { registry, votes, httpDuration, storeUp, votesRejected };
}

/** Metrics of durable mode; `backlog` is read when scraped. */
export function addDatabaseMetrics(
  metrics: AppMetrics,
  backlog: () => { size: number; max: number },
): DatabaseMetrics {
  const registers = [metrics.registry];
  metrics.votesRejected.inc({ reason: "backlog_full" }, 0);
  new Gauge({
    name: "vote_backlog",
    help: "Acknowledged votes not yet written to the database",
    registers,
    collect() {
      this.set(backlog().size);
    },
  });
  new Gauge({
    name: "vote_backlog_max",
    help: "Most votes that may wait for the database (DATABASE_BACKLOG_MAX); more are refused",
    registers,
    collect() {
      this.set(backlog().max);
    },
  });
  const database: DatabaseMetrics = {
    up: new Gauge({
      name: "vote_database_up",
      help: "1 when the last contact with the database succeeded, else 0",
      registers,
    }),
    writes: new Counter({
      name: "vote_database_writes_total",
      help: "Batches of votes written to the database",
      registers,
    }),
    writtenVotes: new Counter({
      name: "vote_database_written_votes_total",
      help: "Votes written to the database by this replica",
      registers,
    }),
    writeDuration: new Histogram({
      name: "vote_database_write_duration_seconds",
      help: "Time to write one batch of votes (one transaction)",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    rebuilds: new Counter({
      name: "vote_tally_rebuilds_total",
      help: "Times this replica rebuilt the Redis tally from the database (kind rebuild, adopt) or reset it",
      labelNames: ["kind"],
      registers,
    }),
  };
  database.up.set(0);
  metrics.database = database;
  return database;
}
