// Reads of the audit log for the admin page and its CSV export: one filter schema for both.
import type { Prisma } from "@platform/db/client";
import { z } from "zod";
import { db } from "../../server/db";
import { AUDIT_ACTIONS, AUDIT_OUTCOMES } from "./audit-log";

const text = z
  .string()
  .trim()
  .max(200)
  .optional()
  .catch(undefined)
  .transform((v) => v || undefined);
const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/)
  .optional()
  .catch(undefined);

export const auditFilterSchema = z.object({
  actor: text,
  environment: text,
  action: z.enum(AUDIT_ACTIONS).optional().catch(undefined),
  outcome: z.enum(AUDIT_OUTCOMES).optional().catch(undefined),
  /** Days (UTC), inclusive. */
  from: day,
  to: day,
  page: z.coerce.number().int().min(1).max(100_000).catch(1).default(1),
});
export type AuditFilter = z.infer<typeof auditFilterSchema>;

export const AUDIT_PAGE_SIZE = 100;

export function auditWhere(f: AuditFilter): Prisma.AuditEventWhereInput {
  const where: Prisma.AuditEventWhereInput = {};
  if (f.actor) where.actor = { contains: f.actor, mode: "insensitive" };
  if (f.environment) where.environment = f.environment;
  if (f.action) where.action = f.action;
  if (f.outcome) where.outcome = f.outcome;
  if (f.from || f.to) {
    where.at = {
      ...(f.from ? { gte: new Date(`${f.from}T00:00:00Z`) } : {}),
      ...(f.to ? { lt: new Date(new Date(`${f.to}T00:00:00Z`).getTime() + 86_400_000) } : {}),
    };
  }
  return where;
}

export async function listAudit(f: AuditFilter) {
  const where = auditWhere(f);
  const [items, total] = await Promise.all([
    db().auditEvent.findMany({
      where,
      orderBy: { id: "desc" },
      take: AUDIT_PAGE_SIZE,
      skip: (f.page - 1) * AUDIT_PAGE_SIZE,
    }),
    db().auditEvent.count({ where }),
  ]);
  return { items, total };
}

export const CSV_COLUMNS = [
  "id",
  "at",
  "actor",
  "actor_name",
  "actor_role",
  "action",
  "outcome",
  "reason",
  "environment",
  "environment_id",
  "operation_id",
  "address",
  "details",
] as const;

/** One CSV field (RFC 4180), with a leading ' for values a spreadsheet would run as a formula. */
export function csvField(value: unknown): string {
  let s =
    value === null || value === undefined
      ? ""
      : typeof value === "object"
        ? JSON.stringify(value)
        : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Every matching entry, oldest first, in batches (an export can be large). */
export async function* auditCsv(f: AuditFilter): AsyncGenerator<string> {
  yield `${CSV_COLUMNS.join(",")}\r\n`;
  const where = auditWhere(f);
  let after: bigint | undefined;
  for (;;) {
    const batch = await db().auditEvent.findMany({
      where: after === undefined ? where : { AND: [where, { id: { gt: after } }] },
      orderBy: { id: "asc" },
      take: 1000,
    });
    if (batch.length === 0) return;
    yield batch
      .map((e) =>
        [
          e.id,
          e.at.toISOString(),
          e.actor,
          e.actorName,
          e.actorRole,
          e.action,
          e.outcome,
          e.reason,
          e.environment,
          e.environmentId,
          e.operationId,
          e.address,
          e.details,
        ]
          .map(csvField)
          .join(","),
      )
      .join("\r\n")
      .concat("\r\n");
    after = batch.at(-1)?.id;
  }
}
