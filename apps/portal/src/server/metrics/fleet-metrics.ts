// The fleet as the database sees it, read when metrics are scraped: queued operations and the age of the
// oldest per queue, running operations per worker, environments per status. Every process that serves
// metrics reports the same figures; aggregate them with max() across instances.
import type { PrismaClient } from "@platform/db/client";
import { Gauge } from "prom-client";
import { processRegistry } from "./registry";

interface QueueRow {
  queue: string;
  depth: bigint;
  oldest_seconds: number | null;
}
interface WorkerRow {
  worker: string;
  running: bigint;
  stale: bigint;
}
interface EnvironmentRow {
  status: string;
  target: string;
  count: bigint;
}

/** Registers the fleet gauges on the process registry; they read through `db` at each scrape. */
export function registerFleetMetrics(
  db: PrismaClient,
  staleAfterSeconds: number,
  onError: (error: unknown) => void,
): void {
  const registers = [processRegistry()];
  const holder = globalThis as unknown as { __portalFleetMetrics?: boolean };
  if (holder.__portalFleetMetrics) return;
  holder.__portalFleetMetrics = true;

  const depth = new Gauge({
    name: "portal_queue_depth",
    help: "Operations waiting for a worker, by queue (shared, or host:<HOST_ID> for a host's local environments)",
    labelNames: ["queue"],
    registers,
    collect: () => read(),
  });
  const age = new Gauge({
    name: "portal_queue_oldest_age_seconds",
    help: "Age of the oldest operation waiting for a worker, by queue (0 when none waits)",
    labelNames: ["queue"],
    registers,
    collect: () => read(),
  });
  const running = new Gauge({
    name: "portal_operations_running",
    help: "Operations running, by worker",
    labelNames: ["worker"],
    registers,
    collect: () => read(),
  });
  const stale = new Gauge({
    name: "portal_operations_stale",
    help: "Running operations whose worker has sent no heartbeat for STALE_AFTER_SECONDS (about to be interrupted), by worker",
    labelNames: ["worker"],
    registers,
    collect: () => read(),
  });
  const environments = new Gauge({
    name: "portal_environments",
    help: "Environments, by status and target",
    labelNames: ["status", "target"],
    registers,
    collect: () => read(),
  });

  // One read per scrape for all five gauges (each gauge's collect would otherwise query on its own). A failed
  // read keeps the last figures (the database being down shows elsewhere) rather than failing the scrape.
  let pending: Promise<void> | undefined;
  let readAt = 0;
  function read(): Promise<void> {
    if (pending && Date.now() - readAt < 1000) return pending;
    readAt = Date.now();
    pending = (async () => {
      const [queues, workers, envs] = await Promise.all([
        db.$queryRaw<QueueRow[]>`
          SELECT CASE WHEN e.target = 'local' AND e.host IS NOT NULL THEN 'host:' || e.host ELSE 'shared' END AS queue,
                 count(*) AS depth,
                 extract(epoch FROM now() - min(o.created_at))::float8 AS oldest_seconds
          -- A network's operations (no environment) go to the shared queue.
          FROM operations o LEFT JOIN environments e ON e.id = o.environment_id
          WHERE o.status = 'queued' GROUP BY 1`,
        db.$queryRaw<WorkerRow[]>`
          SELECT coalesce(worker_id, '?') AS worker, count(*) AS running,
                 count(*) FILTER (WHERE heartbeat_at < now() - make_interval(secs => ${staleAfterSeconds})) AS stale
          FROM operations WHERE status = 'running' GROUP BY 1`,
        db.$queryRaw<EnvironmentRow[]>`
          SELECT status::text AS status, target::text AS target, count(*) AS count
          FROM environments WHERE deleted_at IS NULL GROUP BY 1, 2`,
      ]);
      depth.reset();
      age.reset();
      depth.set({ queue: "shared" }, 0);
      age.set({ queue: "shared" }, 0);
      for (const q of queues) {
        depth.set({ queue: q.queue }, Number(q.depth));
        age.set({ queue: q.queue }, q.oldest_seconds ?? 0);
      }
      running.reset();
      stale.reset();
      for (const w of workers) {
        running.set({ worker: w.worker }, Number(w.running));
        stale.set({ worker: w.worker }, Number(w.stale));
      }
      environments.reset();
      for (const e of envs) environments.set({ status: e.status, target: e.target }, Number(e.count));
    })().catch((e) => onError(e));
    return pending;
  }
}
