// The environment's shape: public load balancer → frontend replicas → Redis writer → read replicas.
type Health = "healthy" | "pending" | "failed" | "off";

const DOT: Record<Health, string> = {
  healthy: "bg-emerald-500",
  pending: "bg-sky-500 animate-pulse",
  failed: "bg-rose-500",
  off: "bg-slate-300",
};
const HEALTH_LABEL: Record<Health, string> = {
  healthy: "healthy",
  pending: "changing",
  failed: "failed",
  off: "not running",
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
      className="min-w-28 rounded-md border border-slate-300 bg-white px-3 py-2 text-center shadow-sm"
    >
      <div className="flex items-center justify-center gap-1.5 text-xs font-semibold text-slate-800">
        <span className={`h-2 w-2 rounded-full ${DOT[health]}`} aria-hidden />
        {title}
      </div>
      {detail && <div className="mt-0.5 truncate text-[11px] text-slate-500">{detail}</div>}
      <span className="sr-only">{HEALTH_LABEL[health]}</span>
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

export function Topology({
  status,
  target,
  frontends,
  redisNodes,
  frontendUrl,
  redisWriter,
  redisReader,
}: {
  status: string;
  target: string;
  frontends: number;
  redisNodes: number;
  frontendUrl?: string;
  redisWriter?: string;
  redisReader?: string;
}) {
  const health: Health =
    status === "ready"
      ? "healthy"
      : status === "failed"
        ? "failed"
        : status === "destroyed" || status === "queued"
          ? "off"
          : "pending";
  const readers = Math.max(0, redisNodes - 1);
  const shown = (n: number) => Math.min(n, 8);
  return (
    <figure
      aria-label="Topology"
      className="rounded-lg border border-slate-200 bg-slate-50 p-4"
      data-testid="topology"
    >
      <div className="flex flex-col items-center">
        <Box
          title={target === "aws" ? "Application Load Balancer" : "HTTP load balancer"}
          detail={frontendUrl ?? "public"}
          health={health}
        />
        <Arrow />
        <div
          className="flex flex-wrap justify-center gap-2"
          data-testid="topology-frontends"
          data-count={frontends}
        >
          {Array.from({ length: shown(frontends) }, (_, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: replicas are identical and ordered
            <Box key={i} title={`frontend ${i + 1}`} health={health} />
          ))}
          {frontends > 8 && <Box title={`+${frontends - 8} more`} health={health} />}
          {frontends === 0 && <Box title="no frontends" health="off" />}
        </div>
        <p className="mt-1 text-xs text-slate-500">
          {frontends === 0
            ? "No frontends running"
            : `${frontends} frontend replica${frontends === 1 ? "" : "s"}`}
        </p>
        <Arrow />
        <div className="flex flex-wrap items-start justify-center gap-6">
          <div className="flex flex-col items-center">
            <Box
              title="Redis writer"
              detail={redisWriter ?? (target === "aws" ? "internal NLB :6379" : "TCP LB")}
              health={redisNodes > 0 ? health : "off"}
            />
          </div>
          {readers > 0 && (
            <div className="flex flex-col items-center">
              <Box title="Redis reader" detail={redisReader ?? "read endpoint"} health={health} />
              <Arrow />
              <div
                className="flex flex-wrap justify-center gap-2"
                data-testid="topology-readers"
                data-count={readers}
              >
                {Array.from({ length: shown(readers) }, (_, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: replicas are identical and ordered
                  <Box key={i} title={`replica ${i + 1}`} health={health} />
                ))}
              </div>
            </div>
          )}
        </div>
        <p className="mt-1 text-xs text-slate-500">
          {redisNodes === 0
            ? "No Redis nodes running"
            : `${redisNodes} Redis node${redisNodes === 1 ? "" : "s"} (1 writer, ${readers} read replica${readers === 1 ? "" : "s"})`}
        </p>
      </div>
    </figure>
  );
}
