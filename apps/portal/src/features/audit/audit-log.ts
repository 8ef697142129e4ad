// Writes to the append-only audit log (table audit_events; a trigger refuses UPDATE, DELETE and TRUNCATE).
// Free of Next.js: the command layer and the sign-in routes call it.
import type { Prisma, PrismaClient } from "@platform/db/client";
import type { Principal } from "../../shared/access";

export const AUDIT_ACTIONS = [
  "create",
  "scale",
  "preview",
  "refresh",
  "reconcile",
  "retry",
  "cancel",
  "destroy",
  "remove",
  "sign-in",
  "sign-in-failed",
  "sign-out",
  // Personal access tokens (the API's identity): made, revoked, used (writes always; reads once an interval),
  // refused (unknown, expired, revoked, or a read-only token asked to write).
  "token-create",
  "token-revoke",
  "token-use",
  "token-refused",
  "webhook-create",
  "webhook-update",
  "webhook-delete",
  // Networks (admins; create-network also when an environment is the first of its region).
  "create-network",
  "refresh-network",
  "retry-network",
  "cancel-network",
  "destroy-network",
  "remove-network",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
export const AUDIT_OUTCOMES = ["accepted", "refused", "failed"] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export interface AuditEntry {
  actor:
    | Pick<Principal, "id" | "name" | "role" | "token">
    | { id: string; name?: string; role?: string; token?: Principal["token"] };
  action: AuditAction;
  outcome: AuditOutcome;
  reason?: string;
  environment?: string;
  environmentId?: string;
  operationId?: string;
  address?: string;
  details?: Record<string, unknown>;
}

type Writer = Pick<PrismaClient, "auditEvent"> | Prisma.TransactionClient;

export async function writeAudit(db: Writer, entry: AuditEntry): Promise<void> {
  await db.auditEvent.create({
    data: {
      actor: entry.actor.id.slice(0, 320),
      actorName: entry.actor.name?.slice(0, 200),
      actorRole: entry.actor.role,
      action: entry.action,
      outcome: entry.outcome,
      reason: entry.reason?.slice(0, 2000),
      environment: entry.environment?.slice(0, 100),
      environmentId: entry.environmentId,
      operationId: entry.operationId,
      address: entry.address?.slice(0, 200),
      // A request made with a personal access token says which one.
      details: (entry.actor.token
        ? { ...entry.details, via: "token", token: entry.actor.token.prefix, tokenId: entry.actor.token.id }
        : entry.details) as Prisma.InputJsonValue | undefined,
    },
  });
}
