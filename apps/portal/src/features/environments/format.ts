// Small display helpers shared by server components.

export function age(from: Date, now: Date = new Date()): string {
  const s = Math.max(0, Math.round((now.getTime() - from.getTime()) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.round(h / 24)}d`;
}

export function duration(from: Date | null, to: Date | null): string {
  if (!from) return "—";
  const s = Math.round(((to ?? new Date()).getTime() - from.getTime()) / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${s % 60}s`;
}

export function frontendUrlOf(outputs: unknown): string | undefined {
  const url = (outputs as { frontendUrl?: unknown } | null)?.frontendUrl;
  return typeof url === "string" && /^https?:\/\//.test(url) ? url : undefined;
}
