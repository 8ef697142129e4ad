// Personal access tokens: create (the secret is returned once), list, revoke, and resolve a presented token to
// its owner's Principal. Free of Next.js: the Tokens page, the API, the bootstrap command and tests call it.
//
// A token acts as its owner with the owner's CURRENT role: the role is worked out on every use from the owner's
// groups as the portal last saw them, with the current configuration (ADMIN_USERS, *_GROUPS, DEFAULT_ROLE). The
// groups are captured when the token is made and refreshed whenever the owner signs in or uses the pages
// (`noteSignedIn`). In oidc and proxy-jwt modes the portal learns groups only from the identity provider at
// those moments, so someone removed from a group keeps the old role through their tokens until they next sign
// in, the token expires, or it is revoked (admins can revoke anyone's tokens on the Tokens page).
import type { ApiToken, PrismaClient } from "@platform/db/client";
import type { TokenLookup } from "../../server/auth/resolvers";
import type { Principal } from "../../shared/access";
import type { TokenScope } from "../../shared/token-schemas";
import { writeAudit } from "../audit/audit-log";
import { generateToken, hashToken, isWellFormedToken, tokenDisplayPrefix } from "./token-format";

export interface TokenOwner {
  id: string;
  subject: string;
  email?: string;
  name: string;
  groups: string[];
}

export interface NewToken {
  /** The secret: shown once, never stored. */
  token: string;
  record: ApiToken;
}

export async function createToken(
  db: PrismaClient,
  input: {
    owner: TokenOwner;
    name: string;
    scope: TokenScope;
    expiresInDays: number;
    /** Who made it: the owner's id (Tokens page) or `shell:<os user>` (bootstrap command). */
    createdBy: string;
    /** Who to record in the audit log (the owner on the page; a system actor for the bootstrap command). */
    actor: Pick<Principal, "id" | "name" | "role">;
    address?: string;
  },
): Promise<NewToken> {
  const token = generateToken();
  const record = await db.$transaction(async (tx) => {
    const row = await tx.apiToken.create({
      data: {
        name: input.name,
        owner: input.owner.id,
        ownerSubject: input.owner.subject,
        ownerEmail: input.owner.email ?? null,
        ownerName: input.owner.name,
        ownerGroups: [...new Set(input.owner.groups)].sort(),
        scope: input.scope,
        tokenHash: hashToken(token),
        tokenPrefix: tokenDisplayPrefix(token),
        createdBy: input.createdBy,
        expiresAt: new Date(Date.now() + input.expiresInDays * 86_400_000),
      },
    });
    await writeAudit(tx, {
      actor: input.actor,
      action: "token-create",
      outcome: "accepted",
      address: input.address,
      details: {
        tokenId: row.id,
        token: row.tokenPrefix,
        name: row.name,
        owner: row.owner,
        scope: row.scope,
        expiresAt: row.expiresAt.toISOString(),
        createdBy: row.createdBy,
      },
    });
    return row;
  });
  return { token, record };
}

export type TokenState = "active" | "expired" | "revoked";
export const tokenState = (t: Pick<ApiToken, "revokedAt" | "expiresAt">, now = new Date()): TokenState =>
  t.revokedAt ? "revoked" : t.expiresAt <= now ? "expired" : "active";

/** A person's tokens (or everyone's, for admins), newest first; revoked and expired ones for 30 days. */
export async function listTokens(db: PrismaClient, owner: string | null): Promise<ApiToken[]> {
  const recent = new Date(Date.now() - 30 * 86_400_000);
  return await db.apiToken.findMany({
    where: {
      ...(owner === null ? {} : { owner }),
      AND: [
        { OR: [{ revokedAt: null }, { revokedAt: { gt: recent } }] },
        { OR: [{ expiresAt: { gt: recent } }] },
      ],
    },
    orderBy: [{ createdAt: "desc" }, { id: "asc" }],
    take: 500,
  });
}

export type RevokeResult = { ok: true; message: string } | { ok: false; message: string };

/** Owners revoke their own tokens; admins anyone's. Audited either way. */
export async function revokeToken(
  db: PrismaClient,
  actor: Principal,
  id: string,
  address?: string,
): Promise<RevokeResult> {
  const row = await db.apiToken.findUnique({ where: { id } });
  const refuse = async (message: string): Promise<RevokeResult> => {
    await writeAudit(db, {
      actor,
      action: "token-revoke",
      outcome: "refused",
      reason: message,
      address,
      details: { tokenId: id },
    });
    return { ok: false, message };
  };
  if (!row) return await refuse("There is no such token.");
  if (row.owner !== actor.id && actor.role !== "admin") {
    return await refuse(`Only its owner (${row.owner}) and admins can revoke the token “${row.name}”.`);
  }
  if (row.revokedAt) return { ok: true, message: `The token “${row.name}” was already revoked.` };
  await db.$transaction(async (tx) => {
    await tx.apiToken.update({ where: { id }, data: { revokedAt: new Date(), revokedBy: actor.id } });
    await writeAudit(tx, {
      actor,
      action: "token-revoke",
      outcome: "accepted",
      address,
      details: { tokenId: id, token: row.tokenPrefix, name: row.name, owner: row.owner },
    });
  });
  return { ok: true, message: `The token “${row.name}” was revoked: it no longer works.` };
}

/** What presenting a token gives: the token row, or why it is refused (the row when the token is known). */
export async function findToken(db: PrismaClient, presented: string): Promise<TokenLookup> {
  if (!isWellFormedToken(presented)) {
    return { ok: false, code: "unknown", reason: "The token is not valid (mistyped or truncated?)." };
  }
  const token = await db.apiToken.findUnique({ where: { tokenHash: hashToken(presented) } });
  if (!token) return { ok: false, code: "unknown", reason: "The token is not valid." };
  if (token.revokedAt) {
    return {
      ok: false,
      code: "revoked",
      token,
      reason: `The token “${token.name}” was revoked on ${token.revokedAt.toISOString().slice(0, 10)}.`,
    };
  }
  if (token.expiresAt <= new Date()) {
    return {
      ok: false,
      code: "expired",
      token,
      reason: `The token “${token.name}” expired on ${token.expiresAt.toISOString().slice(0, 10)}. Create a new one on the Tokens page.`,
    };
  }
  return { ok: true, token };
}

/**
 * Records a use: last use and address (at most once a minute per token), and whether this read should be
 * audited (the first read per token per `readAuditMinutes`; writes are audited by the commands themselves).
 * One conditional UPDATE, so several web processes agree on who audits.
 */
export async function noteTokenUse(
  db: PrismaClient,
  tokenId: string,
  address: string | undefined,
  read: { readAuditMinutes: number } | null,
): Promise<{ auditRead: boolean }> {
  // The old value is read under the row lock, so of several concurrent reads exactly one sees the audit due.
  const rows = await db.$queryRaw<{ audit_read: boolean }[]>`
    WITH old AS (
      SELECT id, last_read_audit_at AS before FROM api_tokens WHERE id = ${tokenId}::uuid FOR UPDATE
    )
    UPDATE api_tokens t SET
      last_used_at = CASE WHEN t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute'
                          THEN now() ELSE t.last_used_at END,
      last_used_address = COALESCE(${address ?? null}, t.last_used_address),
      last_read_audit_at = CASE WHEN ${read !== null} AND (t.last_read_audit_at IS NULL
                                  OR t.last_read_audit_at <= now() - make_interval(mins => ${read?.readAuditMinutes ?? 0}))
                                THEN now() ELSE t.last_read_audit_at END
    FROM old WHERE t.id = old.id
    RETURNING t.last_read_audit_at IS DISTINCT FROM old.before AS audit_read`;
  if (read?.readAuditMinutes === 0) return { auditRead: true }; // every read
  return { auditRead: read !== null && rows[0]?.audit_read === true };
}

/** Last synced groups per person in this process (and when), so page visits rarely write. */
const seenGroups = new Map<string, { key: string; at: number }>();
const RESYNC_MS = 10 * 60_000;

/**
 * The owner signed in or used the pages: their tokens take on the groups the identity provider gives now, so
 * a role change reaches their tokens at the next sign-in (or page visit, in proxy-jwt and dev modes).
 */
export async function noteSignedIn(db: PrismaClient, who: Principal): Promise<void> {
  if (who.via === "token" || who.via === "system") return;
  const groups = [...new Set(who.groups)].sort();
  const key = JSON.stringify(groups);
  const seen = seenGroups.get(who.id);
  if (seen?.key === key && Date.now() - seen.at < RESYNC_MS) return;
  await db.apiToken.updateMany({
    where: { owner: who.id, revokedAt: null, NOT: { ownerGroups: { equals: groups } } },
    data: { ownerGroups: groups, groupsSeenAt: new Date() },
  });
  if (seenGroups.size > 10_000) seenGroups.clear();
  seenGroups.set(who.id, { key, at: Date.now() });
}
