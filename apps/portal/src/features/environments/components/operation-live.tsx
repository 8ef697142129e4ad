"use client";
// Follows a running operation through server-sent events: progress bar (done/expected) and streaming log.
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";

interface LogLine {
  id: string;
  type: string;
  severity: string | null;
  message: string;
}
interface Progress {
  status: string;
  done: number;
  expected: number;
  error?: string | null;
}

const MAX_LINES = 400;
const BAR_COLOR: Record<string, string> = {
  failed: "bg-rose-500",
  interrupted: "bg-amber-500",
  cancelled: "bg-slate-400",
  succeeded: "bg-emerald-600",
};

export function OperationLive({
  environment,
  operationId,
  kind,
  initial,
  streamUrl,
}: {
  environment: string;
  operationId: string;
  kind: string;
  initial: Progress;
  /** The event stream; default: the environment's operation's (a network's page gives its own). */
  streamUrl?: string;
}) {
  const router = useRouter();
  const [progress, setProgress] = useState<Progress>(initial);
  const [lines, setLines] = useState<LogLine[]>([]);
  const [connected, setConnected] = useState(false);
  const [ended, setEnded] = useState(false);
  const logRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    // The browser reconnects a dropped stream by itself (sending Last-Event-ID). A refused one (503: this
    // server serves its maximum of live views) is opened again after a pause, from the last event seen.
    let source: EventSource | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let lastId = -1n;
    let stopped = false;
    const open = () => {
      const after = lastId >= 0n ? `?after=${lastId}` : "";
      const s = new EventSource(
        `${streamUrl ?? `/api/environments/${environment}/operations/${operationId}/events`}${after}`,
      );
      source = s;
      s.addEventListener("open", () => setConnected(true));
      s.addEventListener("error", () => {
        setConnected(false);
        if (s.readyState === EventSource.CLOSED && !stopped) {
          s.close();
          retry = setTimeout(open, 5000);
        }
      });
      s.addEventListener("event", (e) => {
        const line = JSON.parse((e as MessageEvent).data) as LogLine;
        const id = BigInt(line.id);
        if (id <= lastId) return;
        lastId = id;
        setLines((prev) => [...prev.slice(-(MAX_LINES - 1)), line]);
      });
      s.addEventListener("progress", (e) => setProgress(JSON.parse((e as MessageEvent).data) as Progress));
      s.addEventListener("end", (e) => {
        setProgress(JSON.parse((e as MessageEvent).data) as Progress);
        stopped = true;
        s.close();
        setConnected(false);
        setEnded(true);
        router.refresh();
      });
    };
    open();
    return () => {
      stopped = true;
      clearTimeout(retry);
      source?.close();
    };
  }, [environment, operationId, router, streamUrl]);

  useEffect(() => {
    const el = logRef.current;
    if (el && lines.length) el.scrollTop = el.scrollHeight;
  }, [lines]);

  const pct =
    progress.expected > 0 ? Math.min(100, Math.round((100 * progress.done) / progress.expected)) : 0;
  const active = progress.status === "queued" || progress.status === "running";
  const steps = progress.expected > 0 ? `${progress.done} of ${progress.expected} steps (${pct}%)` : "";
  const summary = active
    ? steps || (progress.status === "queued" ? "waiting for a worker…" : "planning…")
    : `${kind} ${progress.status}${steps ? ` · ${steps}` : ""}`;
  return (
    <section
      aria-labelledby="live-heading"
      className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm"
      data-testid="operation-live"
    >
      <div className="flex items-center justify-between">
        <h2 id="live-heading" className="text-base font-semibold">
          {kind} · <span data-testid="live-status">{progress.status}</span>
        </h2>
        <span className="text-xs text-slate-500">
          {connected ? "live" : active ? "connecting…" : "finished"}
        </span>
      </div>
      <div className="mt-3">
        <div
          role="progressbar"
          aria-label="Operation progress"
          aria-valuemin={0}
          aria-valuemax={progress.expected || 1}
          aria-valuenow={progress.done}
          aria-valuetext={summary}
          className="h-2.5 w-full overflow-hidden rounded-full bg-slate-100"
        >
          <div
            className={`h-full rounded-full transition-all ${BAR_COLOR[progress.status] ?? "bg-indigo-600"} ${progress.expected === 0 && progress.status === "running" ? "w-1/4 animate-pulse" : ""}`}
            style={
              progress.expected > 0
                ? { width: `${pct}%` }
                : progress.status === "running"
                  ? undefined
                  : { width: "0%" }
            }
          />
        </div>
        {/* Announced to screen readers as it changes (the log below is not: it would drown them). */}
        <p
          className="mt-1 text-xs tabular-nums text-slate-600"
          aria-live="polite"
          aria-atomic="true"
          data-testid="live-progress"
        >
          {summary}
        </p>
      </div>
      {progress.error && (
        <p className="mt-2 rounded bg-rose-50 px-3 py-2 text-sm text-rose-800">{progress.error}</p>
      )}
      <div
        ref={logRef}
        role="log"
        aria-label="Operation log"
        aria-live="off"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
        tabIndex={0}
        className="mt-3 h-64 overflow-y-auto rounded-md bg-slate-900 p-3 font-mono text-xs leading-5 text-slate-100"
        data-testid="live-log"
      >
        <ol>
          {lines.length === 0 && (
            <li className="text-slate-400">
              {active ? "Waiting for output…" : ended ? "No log lines were kept." : "Loading the log…"}
            </li>
          )}
          {lines.map((l) => (
            <li
              key={l.id}
              className={
                l.severity === "error"
                  ? "text-rose-300"
                  : l.severity === "warning"
                    ? "text-amber-300"
                    : l.type === "status" || l.type === "notice"
                      ? "text-sky-300"
                      : ""
              }
            >
              {l.message}
            </li>
          ))}
        </ol>
      </div>
    </section>
  );
}
