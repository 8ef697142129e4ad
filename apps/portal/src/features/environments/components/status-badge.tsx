import { STATUS_LABEL } from "../../../shared/status";

const STYLE: Record<string, string> = {
  queued: "bg-slate-100 text-slate-700 ring-slate-300",
  provisioning: "bg-sky-50 text-sky-800 ring-sky-300",
  updating: "bg-sky-50 text-sky-800 ring-sky-300",
  running: "bg-sky-50 text-sky-800 ring-sky-300",
  ready: "bg-emerald-50 text-emerald-800 ring-emerald-300",
  succeeded: "bg-emerald-50 text-emerald-800 ring-emerald-300",
  failed: "bg-rose-50 text-rose-800 ring-rose-300",
  interrupted: "bg-amber-50 text-amber-800 ring-amber-300",
  cancelled: "bg-slate-100 text-slate-600 ring-slate-300",
  destroying: "bg-amber-50 text-amber-800 ring-amber-300",
  destroyed: "bg-slate-100 text-slate-600 ring-slate-300",
};
const BUSY = new Set(["provisioning", "updating", "running", "destroying"]);

export function StatusBadge({ status }: { status: string }) {
  return (
    <span
      data-testid="status-badge"
      data-status={status}
      className={`inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${STYLE[status] ?? STYLE.queued}`}
    >
      <span
        aria-hidden
        className={`h-1.5 w-1.5 rounded-full bg-current ${BUSY.has(status) ? "animate-pulse" : ""}`}
      />
      {STATUS_LABEL[status as keyof typeof STATUS_LABEL] ?? status}
    </span>
  );
}
