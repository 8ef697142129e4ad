// The environment's shape: public load balancer → frontend replicas → cache writer / reader → read replicas
// (Redis on Fargate, or ElastiCache) and the database when it has one, with replica counts and each tier's
// health (live when the page could probe it, else from the status), all inside the network it shares with
// other environments (AWS: its region's VPC; local: the machine's loopback).
import { type Health, healthFromStatus, type LiveHealth } from "../health";

const DOT: Record<Health, string> = {
  healthy: "bg-emerald-500",
  pending: "bg-sky-500 animate-pulse",
  failed: "bg-rose-500",
  off: "bg-slate-300",
  unknown: "bg-amber-400",
};
const HEALTH_LABEL: Record<Health, string> = {
  healthy: "healthy",
  pending: "changing",
  failed: "failing",
  off: "not running",
  unknown: "unknown",
};
const HEALTH_TEXT: Record<Health, string> = {
  healthy: "text-emerald-800",
  pending: "text-sky-800",
  failed: "text-rose-800",
  off: "text-slate-600",
  unknown: "text-amber-800",
};

function Box({
  title,
  detail,
  health,
  testId,
}: {
  title: string;
  detail?: string;
  health: Health;
  testId?: string;
}) {
  return (
    <div
      data-testid={testId}
      data-health={health}
      className="min-w-28 max-w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-center shadow-sm"
    >
      <div className="flex items-center justify-center gap-1.5 text-xs font-semibold text-slate-800">
        <span className={`h-2 w-2 shrink-0 rounded-full ${DOT[health]}`} aria-hidden />
        {title}
      </div>
      {detail && <div className="mt-0.5 truncate text-[11px] text-slate-600">{detail}</div>}
      <div className={`text-[11px] ${HEALTH_TEXT[health]}`}>{HEALTH_LABEL[health]}</div>
    </div>
  );
}

function Arrow() {
  return (
    <div aria-hidden className="flex justify-center py-1 text-slate-400">
      <svg width="16" height="20" viewBox="0 0 16 20" role="presentation">
        <path d="M8 0v16M2 11l6 6 6-6" stroke="currentColor" strokeWidth="1.5" fill="none" />
      </svg>
    </div>
  );
}

const MAX_SHOWN = 8;

function Replicas({
  count,
  title,
  health,
  testId,
}: {
  count: number;
  title: string;
  health: Health;
  testId: string;
}) {
  return (
    <div className="flex flex-wrap justify-center gap-2" data-testid={testId} data-count={count}>
      {Array.from({ length: Math.min(count, MAX_SHOWN) }, (_, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: replicas are identical and ordered
        <Box key={i} title={`${title} ${i + 1}`} health={health} />
      ))}
      {count > MAX_SHOWN && <Box title={`+${count - MAX_SHOWN} more`} health={health} />}
    </div>
  );
}

export function Topology({
  status,
  target,
  frontends,
  redisNodes,
  frontendUrl,
  redisWriter,
  redisReader,
  live,
  provisioned = true,
  network,
  cacheKind = "redis",
  database = false,
  databaseEndpoint,
}: {
  status: string;
  /** False until a create has succeeded (no current replica counts yet). */
  provisioned?: boolean;
  target: string;
  frontends: number;
  redisNodes: number;
  frontendUrl?: string;
  redisWriter?: string;
  redisReader?: string;
  /** The probe's answer, when the environment is ready and has a frontend URL. */
  live?: LiveHealth;
  /** The shared part it sits in: shown around the tiers. */
  network?: { title: string; detail: string; href?: string };
  /** The cache option: Redis on Fargate (locally: redis-server) or ElastiCache (locally: redis-server with AOF). */
  cacheKind?: "redis" | "elasticache";
  /** Whether the environment has a PostgreSQL database. */
  database?: boolean;
  databaseEndpoint?: string;
}) {
  // A failed first create may have left anything or nothing: say "unknown" rather than "failing".
  const fromStatus = status === "failed" && !provisioned ? "unknown" : healthFromStatus(status);
  const h = live ?? {
    balancer: fromStatus,
    frontends: fromStatus,
    writer: fromStatus,
    reader: fromStatus,
    database: fromStatus,
  };
  const readers = Math.max(0, redisNodes - 1);
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const aws = target === "aws";
  const managed = cacheKind === "elasticache";
  const cache = managed
    ? {
        writer: "ElastiCache primary",
        writerDetail:
          redisWriter ?? (aws ? "primary endpoint, TLS" : "local stand-in: redis-server with AOF"),
        reader: "ElastiCache reader",
        replica: "node replica",
        nodes: "cache node",
        roles: "1 primary",
      }
    : {
        writer: "Redis writer",
        writerDetail: redisWriter ?? (aws ? "internal NLB :6379" : "TCP LB"),
        reader: "Redis reader",
        replica: "replica",
        nodes: "Redis node",
        roles: "1 writer",
      };
  return (
    <figure
      aria-labelledby="topology-heading"
      className="rounded-lg border border-slate-200 bg-slate-50 p-4"
      data-testid="topology"
    >
      <figcaption className="mb-3 flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="topology-heading" className="text-base font-semibold">
          Topology
        </h2>
        <span className="text-xs text-slate-600" data-testid="topology-health">
          {live ? `Live check: ${live.summary}` : `Health from the status (${status}).`}
        </span>
      </figcaption>
      <div className="flex flex-col items-center">
        <Box
          title={target === "aws" ? "Application Load Balancer" : "HTTP load balancer"}
          detail={frontendUrl ?? "public"}
          health={h.balancer}
          testId="topology-balancer"
        />
        <Arrow />
        {frontends > 0 ? (
          <Replicas count={frontends} title="frontend" health={h.frontends} testId="topology-frontends" />
        ) : (
          <div data-testid="topology-frontends" data-count={0}>
            <Box title="no frontends" health="off" />
          </div>
        )}
        <p className="mt-1 text-xs text-slate-600">
          {frontends === 0 ? "No frontends running" : plural(frontends, "frontend replica")}
        </p>
        <Arrow />
        <div className="flex flex-wrap items-start justify-center gap-6">
          <div className="flex flex-col items-center" data-testid="topology-cache" data-kind={cacheKind}>
            <div className="flex flex-wrap items-start justify-center gap-6">
              <Box
                title={cache.writer}
                detail={cache.writerDetail}
                health={redisNodes > 0 ? h.writer : "off"}
                testId="topology-writer"
              />
              {readers > 0 && (
                <div className="flex flex-col items-center">
                  <Box
                    title={cache.reader}
                    detail={redisReader ?? "read endpoint"}
                    health={h.reader}
                    testId="topology-reader"
                  />
                  <Arrow />
                  <Replicas
                    count={readers}
                    title={cache.replica}
                    health={h.reader}
                    testId="topology-readers"
                  />
                </div>
              )}
            </div>
            <p className="mt-1 text-xs text-slate-600">
              {redisNodes === 0
                ? `No ${cache.nodes}s running`
                : `${plural(redisNodes, cache.nodes)} (${cache.roles}, ${plural(readers, "read replica")})`}
            </p>
          </div>
          {database && (
            <div className="flex flex-col items-center">
              <Box
                title="PostgreSQL"
                detail={databaseEndpoint ?? (aws ? "RDS, private subnets" : "local server")}
                health={redisNodes > 0 ? h.database : "off"}
                testId="topology-database"
              />
              <p className="mt-1 text-xs text-slate-600">
                {live?.databaseBacklog
                  ? `${live.databaseBacklog} votes waiting to be written`
                  : "every vote recorded"}
              </p>
            </div>
          )}
        </div>
      </div>
      {network && (
        <div
          className="mt-4 rounded-md border border-dashed border-slate-400 bg-white px-3 py-2 text-center"
          data-testid="topology-network"
        >
          <p className="text-xs font-semibold text-slate-800">
            Shared network:{" "}
            {network.href ? (
              <a href={network.href} className="text-indigo-700 underline">
                {network.title}
              </a>
            ) : (
              network.title
            )}
          </p>
          <p className="text-[11px] text-slate-600">{network.detail}</p>
        </div>
      )}
    </figure>
  );
}
