// Personal access tokens against a real PostgreSQL: what a presented token resolves to (its owner's CURRENT
// role from the groups last seen and the current configuration), refusals (unknown, malformed, expired,
// revoked, an owner without a role), last use and the read-audit interval (one conditional UPDATE), group
// refresh at sign-in, revocation rights, and the webhook trigger on finished operations.
import { randomUUID } from "node:crypto";
import { createDbClient, type PrismaClient } from "@platform/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateToken } from "../../src/features/tokens/token-format";
import {
  createToken,
  findToken,
  noteSignedIn,
  noteTokenUse,
  revokeToken,
} from "../../src/features/tokens/tokens";
import { tokenResolver } from "../../src/server/auth/resolvers";
import { parseConfig } from "../../src/server/env";
import { makePrincipal, type Principal } from "../../src/shared/access";
import { startTestDatabaseServer, type TestDatabaseServer } from "../helpers/database";

let server: TestDatabaseServer;
let db: PrismaClient;

const config = (extra: Record<string, string> = {}) => parseConfig({ DATA_DIR: "/tmp/unused", ...extra });
const withGroups = (id: string, groups: string[]): Principal => ({
  ...makePrincipal(id, "member"),
  groups,
  via: "oidc",
});
const alice = withGroups("alice@example.com", ["portal-members", "team-a"]);
const root = makePrincipal("root@example.com", "admin");

const resolve = (token: string, c = config()) =>
  tokenResolver(c, (p) => findToken(db, p)).resolve({
    header: (n) => (n === "authorization" ? `Bearer ${token}` : null),
    cookie: () => undefined,
  });

const make = (owner: Principal, scope: "read" | "write" = "write", days = 30) =>
  createToken(db, {
    owner,
    name: `t-${randomUUID().slice(0, 6)}`,
    scope,
    expiresInDays: days,
    createdBy: owner.id,
    actor: owner,
  });

beforeAll(async () => {
  server = await startTestDatabaseServer();
  db = createDbClient(await server.fresh(), { poolSize: 4 });
}, 120_000);

afterAll(async () => {
  await db?.$disconnect();
  await server?.stop();
});

describe("a presented token", () => {
  it("acts as its owner, with the role and teams their groups give now", async () => {
    const { token, record } = await make(alice);
    expect(record.tokenHash).not.toContain(token.slice(5, 20)); // only the hash is stored
    const r = await resolve(token);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.principal).toMatchObject({
      id: "alice@example.com",
      role: "member",
      teams: ["team-a"],
      via: "token",
    });
    expect(r.principal.token).toEqual({ id: record.id, prefix: token.slice(0, 9), scope: "write" });
    // The configuration at the time of use decides: made an admin by ADMIN_USERS, her token is an admin's.
    const promoted = await resolve(token, config({ ADMIN_USERS: "alice@example.com" }));
    expect(promoted.ok && promoted.principal.role).toBe("admin");
  });

  it("takes on the groups its owner has when they next sign in or use the pages", async () => {
    const bea = withGroups("bea@example.com", ["portal-members", "team-a"]);
    const { token } = await make(bea);
    expect((await resolve(token)).ok && (await resolve(token)).ok).toBe(true);
    await noteSignedIn(db, { ...bea, groups: ["portal-viewers", "team-b"] });
    const after = await resolve(token);
    expect(after.ok && after.principal.role).toBe("viewer");
    expect(after.ok && after.principal.teams).toEqual(["team-b"]);
    // Removed from every portal group: the token no longer works.
    await noteSignedIn(db, { ...bea, groups: ["team-b"] });
    const gone = await resolve(token);
    expect(gone).toMatchObject({ ok: false, code: "no-access", owner: "bea@example.com" });
  });

  it("is refused when missing, malformed, unknown, expired or revoked", async () => {
    const none = await tokenResolver(config(), (p) => findToken(db, p)).resolve({
      header: () => null,
      cookie: () => undefined,
    });
    expect(none).toMatchObject({ ok: false, code: "missing" });
    expect(await resolve("envp_nope")).toMatchObject({ ok: false, code: "unknown" });
    expect(await resolve(generateToken())).toMatchObject({ ok: false, code: "unknown" });

    const expired = await make(alice);
    await db.apiToken.update({
      where: { id: expired.record.id },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    expect(await resolve(expired.token)).toMatchObject({ ok: false, code: "expired", owner: alice.id });

    const revoked = await make(alice);
    const bob = withGroups("bob@example.com", ["portal-members", "team-a"]);
    // Another member may not revoke it (refused and audited); its owner and admins may.
    expect(await revokeToken(db, bob, revoked.record.id)).toMatchObject({ ok: false });
    expect((await resolve(revoked.token)).ok).toBe(true);
    expect(await revokeToken(db, root, revoked.record.id)).toMatchObject({ ok: true });
    expect(await resolve(revoked.token)).toMatchObject({ ok: false, code: "revoked" });
    const audit = await db.auditEvent.findMany({ where: { action: "token-revoke" }, orderBy: { id: "asc" } });
    expect(audit.map((a) => [a.actor, a.outcome])).toEqual([
      ["bob@example.com", "refused"],
      ["root@example.com", "accepted"],
    ]);
  });
});

describe("token use", () => {
  it("records the last use and audits a token's reads once per interval", async () => {
    const { record } = await make(alice, "read");
    const first = await noteTokenUse(db, record.id, "198.51.100.4", { readAuditMinutes: 60 });
    const second = await noteTokenUse(db, record.id, "198.51.100.5", { readAuditMinutes: 60 });
    expect([first.auditRead, second.auditRead]).toEqual([true, false]);
    const row = await db.apiToken.findUniqueOrThrow({ where: { id: record.id } });
    expect(row.lastUsedAt).not.toBeNull();
    expect(row.lastUsedAddress).toBe("198.51.100.5");
    // A write is audited by its command, so a write use never asks for a read audit.
    expect((await noteTokenUse(db, record.id, undefined, null)).auditRead).toBe(false);
    // 0 minutes: every read is audited; concurrent reads audit once each only when due.
    const every = await make(alice, "read");
    const flags = [];
    for (let i = 0; i < 3; i++)
      flags.push((await noteTokenUse(db, every.record.id, undefined, { readAuditMinutes: 0 })).auditRead);
    expect(flags).toEqual([true, true, true]);
    const burst = await make(alice, "read");
    const many = await Promise.all(
      Array.from({ length: 8 }, () => noteTokenUse(db, burst.record.id, undefined, { readAuditMinutes: 60 })),
    );
    expect(many.filter((m) => m.auditRead)).toHaveLength(1);
  });

  it("is created with its audit entry, owner and expiry", async () => {
    const { record } = await make(alice, "write", 7);
    expect(record.expiresAt.getTime() - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    const entry = await db.auditEvent.findFirstOrThrow({
      where: { action: "token-create" },
      orderBy: { id: "desc" },
    });
    expect(entry).toMatchObject({ actor: alice.id, outcome: "accepted" });
    expect(entry.details).toMatchObject({ tokenId: record.id, scope: "write", owner: alice.id });
  });
});

describe("the finished-operation trigger", () => {
  it("queues one delivery per enabled webhook of the environment's team and per portal-wide webhook", async () => {
    const env = await db.environment.create({
      data: {
        name: "hooked",
        target: "local",
        owner: alice.id,
        team: "team-a",
        desiredFrontendReplicas: 1,
        desiredRedisReplicas: 1,
      },
    });
    const hook = (team: string | null, enabled = true) =>
      db.webhook.create({
        data: { team, url: `https://h.example/${team}`, secret: "s", createdBy: "x", enabled },
      });
    const [a, all] = [await hook("team-a"), await hook(null)];
    await hook("team-b");
    await hook("team-a", false);
    const op = await db.operation.create({
      data: { environmentId: env.id, kind: "create", requestedConfig: {}, requestedBy: alice.id },
    });
    await db.operation.update({ where: { id: op.id }, data: { status: "running" } });
    expect(await db.webhookDelivery.count()).toBe(0); // running is not finished
    await db.operation.update({ where: { id: op.id }, data: { status: "failed" } });
    const rows = await db.webhookDelivery.findMany({ where: { operationId: op.id } });
    expect(rows.map((r) => r.webhookId).sort()).toEqual([a.id, all.id].sort());
    expect(
      rows.every((r) => r.event === "operation.finished" && r.status === "pending" && r.enqueuedAt === null),
    ).toBe(true);
    // A later status change of the finished operation queues nothing more.
    await db.operation.update({ where: { id: op.id }, data: { status: "failed", error: "x" } });
    expect(await db.webhookDelivery.count({ where: { operationId: op.id } })).toBe(2);
  });
});
