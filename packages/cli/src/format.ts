// Human output: tables and summaries.
import type { Environment, Operation } from "./types.js";

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

const replicas = (r: { desired: number; current: number | null }) =>
  r.current === null || r.current === r.desired ? String(r.desired) : `${r.current}→${r.desired}`;

export function environmentRows(envs: Environment[]): string {
  return table(
    ["NAME", "STATUS", "TARGET", "FRONTENDS", "REDIS", "OWNER", "TEAM", "EXPIRES", "URL"],
    envs.map((e) => [
      e.name,
      e.status,
      e.target,
      replicas(e.frontendReplicas),
      replicas(e.redisReplicas),
      e.owner,
      e.team ?? "-",
      e.expiresAt ? e.expiresAt.slice(0, 16).replace("T", " ") : "never",
      e.frontendUrl ?? "-",
    ]),
  );
}

export function operationLine(op: Operation): string {
  const error = op.error ? ` — ${op.error.message}` : "";
  return `${op.kind} ${op.status} (${op.id}, requested by ${op.requestedBy} at ${op.createdAt})${error}`;
}

export function environmentDetail(e: Environment, portalUrl: string): string {
  const rows: [string, string][] = [
    ["Name", e.name],
    ["Status", e.status],
    ["Target", `${e.target}${e.region ? ` (${e.region})` : ""}`],
    ["Frontends", `${e.frontendReplicas.current ?? "-"} running, ${e.frontendReplicas.desired} desired`],
    ["Redis", `${e.redisReplicas.current ?? "-"} running, ${e.redisReplicas.desired} desired`],
    ["Owner", e.owner],
    ["Team", e.team ?? "-"],
    ["Frontend", e.frontendUrl ?? "-"],
    ["Options", e.options && Object.keys(e.options).length ? JSON.stringify(e.options) : "defaults"],
    ["Created", e.createdAt],
    ["Expires", e.expiresAt ?? "never"],
    ["Last operation", e.lastOperation ? operationLine(e.lastOperation) : "-"],
    ["Portal", `${portalUrl}${e.links.page}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v}`).join("\n");
}

export function changesText(changes: Record<string, number> | null): string {
  if (!changes || Object.keys(changes).length === 0) return "no changes reported";
  return Object.entries(changes)
    .map(([k, n]) => `${n} to ${k}`)
    .join(", ");
}
