// Authorisation, quotas, rate limits, soft deletion and the audit log in the command layer, and the web
// process's database role — against a real PostgreSQL (embedded) and pg-boss. No worker runs: what matters here
// is what the commands accept, refuse and record.
import { randomUUID } from "node:crypto";
import { createDbClient, type PrismaClient } from "@platform/db";
import pg from "pg";
import type PgBoss from "pg-boss";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CommandContext,
  createEnvironment,
  destroyEnvironment,
  type Quotas,
  removeEnvironment,
  scaleEnvironment,
} from "../../src/features/environments/commands";
import { checkWebRole, ensureLoginRole, grantWebRole, withCredentials } from "../../src/server/db-roles";
import { startQueue } from "../../src/server/queue";
import { postgresRateLimiter, rateLimitPool } from "../../src/server/rate-limit";
import { makePrincipal, type Principal } from "../../src/shared/access";
import { startTestDatabaseServer, type TestDatabaseServer } from "../helpers/database";

let pg0: TestDatabaseServer;
let url: string;
let db: PrismaClient;
let boss: PgBoss;
let pool: pg.Pool;

const quotas: Quotas = {
  environmentsPerPerson: 2,
  environmentsPerTeam: 3,
  environmentsTotal: 5,
  replicasPerEnvironment: 6,
  maxTtlHours: 48,
};
const ann = makePrincipal("ann@example.com", "member", ["team-a"]);
const tom = makePrincipal("tom@example.com", "member", ["team-a"]);
const bob = makePrincipal("bob@example.com", "member", ["team-b"]);
const vic = makePrincipal("vic@example.com", "viewer", ["team-a"]);
const root = makePrincipal("root@example.com", "admin");

const ctx = (principal: Principal, extra: Partial<CommandContext> = {}): CommandContext => ({
  db,
  boss,
  principal,
  quotas,
  address: "203.0.113.7",
  ...extra,
});
const create = (
  p: Principal,
  name: string,
  over: Record<string, unknown> = {},
  extra: Partial<CommandContext> = {},
) =>
  createEnvironment(ctx(p, extra), {
    name,
    target: "local",
    frontendReplicas: 2,
    redisReplicas: 1,
    ttlHours: 24,
    team: p.teams[0],
    idempotencyKey: randomUUID(),
    ...over,
  });
const audits = (where: Record<string, unknown> = {}) =>
  db.auditEvent.findMany({ where, orderBy: { id: "asc" } });

beforeAll(async () => {
  pg0 = await startTestDatabaseServer();
  url = await pg0.fresh();
  db = createDbClient(url, { poolSize: 6 });
  boss = await startQueue(url, { role: "sender" });
  pool = rateLimitPool(url);
}, 120_000);
afterAll(async () => {
  await pool?.end();
  await boss?.stop({ graceful: false, wait: true });
  await db?.$disconnect();
  await pg0?.stop();
});

describe("who may do what, enforced by the commands", () => {
  it("members act on their own and their teams' environments; others and viewers are refused with the reason, nothing changes, every refusal is audited", async () => {
    expect(await create(ann, "shop-a")).toMatchObject({ ok: true });
    const before = await db.operation.count();

    const denied = await destroyEnvironment(ctx(bob), {
      name: "shop-a",
      confirmation: "shop-a",
      idempotencyKey: randomUUID(),
    });
    expect(denied).toEqual({
      ok: false,
      code: "forbidden",
      message: "Only its owner (ann@example.com), members of team team-a and admins can destroy “shop-a”.",
    });
    const scaledByViewer = await scaleEnvironment(ctx(vic), {
      name: "shop-a",
      frontendReplicas: 3,
      redisReplicas: 1,
      idempotencyKey: randomUUID(),
    });
    expect(scaledByViewer).toMatchObject({
      ok: false,
      code: "forbidden",
      message: expect.stringMatching(/read-only/),
    });
    expect(await create(vic, "shop-v")).toMatchObject({ ok: false, code: "forbidden" });
    expect(await create(bob, "shop-x", { team: "team-a" })).toMatchObject({
      ok: false,
      code: "forbidden",
      field: "team",
    });
    expect(await db.operation.count()).toBe(before);
    expect(await db.environment.count({ where: { name: { in: ["shop-v", "shop-x"] } } })).toBe(0);

    // A team-mate may (the create is still queued, so the state refuses — but not the access check).
    const byTeamMate = await scaleEnvironment(ctx(tom), {
      name: "shop-a",
      frontendReplicas: 3,
      redisReplicas: 1,
      idempotencyKey: randomUUID(),
    });
    expect(byTeamMate).toMatchObject({
      ok: false,
      code: "refused",
      message: expect.stringMatching(/create operation is queued/),
    });

    const refused = await audits({ outcome: "refused" });
    expect(
      refused.map((a) => [
        a.actor,
        a.action,
        a.environment,
        a.details && (a.details as { code?: string }).code,
      ]),
    ).toEqual([
      ["bob@example.com", "destroy", "shop-a", "forbidden"],
      ["vic@example.com", "scale", "shop-a", "forbidden"],
      ["vic@example.com", "create", "shop-v", "forbidden"],
      ["bob@example.com", "create", "shop-x", "forbidden"],
      ["tom@example.com", "scale", "shop-a", "refused"],
    ]);
    expect(refused[0]).toMatchObject({
      reason: denied.ok ? "" : denied.message,
      address: "203.0.113.7",
      actorRole: "member",
    });
    const accepted = await audits({ outcome: "accepted" });
    expect(accepted.map((a) => [a.actor, a.action, a.environment])).toEqual([
      ["ann@example.com", "create", "shop-a"],
    ]);
    expect(accepted[0]?.operationId).toBeTruthy();
  });

  it("quotas: replicas per environment, a required time-to-live for members (admins may choose never), per person, per team and the whole portal — inside the transaction", async () => {
    const q = { ...quotas };
    quotas.environmentsTotal = 6;
    expect(await create(bob, "big", { frontendReplicas: 5, redisReplicas: 2 })).toMatchObject({
      ok: false,
      code: "quota",
      field: "frontendReplicas",
      message: expect.stringMatching(/at most 6 replicas per environment/),
    });
    expect(await create(bob, "forever", { ttlHours: undefined })).toMatchObject({
      ok: false,
      code: "quota",
      field: "ttlHours",
      message: expect.stringMatching(/Members must set a time to live \(at most 48 hours\)/),
    });
    expect(await create(root, "admin-forever", { ttlHours: undefined })).toMatchObject({ ok: true });

    // Per person (2): bob's two concurrent creates plus a third — exactly two are accepted.
    const results = await Promise.all(["b-one", "b-two", "b-three"].map((n) => create(bob, n)));
    expect(results.filter((r) => r.ok)).toHaveLength(2);
    expect(results.find((r) => !r.ok)).toMatchObject({
      code: "quota",
      message: expect.stringMatching(/at most 2 per person/),
    });

    // Per team (3): shop-a (ann) + two more of team-a, then tom is refused.
    expect(await create(tom, "t-one")).toMatchObject({ ok: true });
    expect(await create(ann, "t-two")).toMatchObject({ ok: true });
    expect(await create(tom, "t-three")).toMatchObject({
      ok: false,
      code: "quota",
      message: expect.stringMatching(/team team-a has 3/),
    });
    // Whole portal (6 live): shop-a, admin-forever, 2 of bob, t-one, t-two → even an admin is refused.
    expect(await create(root, "one-more", { ttlHours: undefined })).toMatchObject({
      ok: false,
      code: "quota",
      message: expect.stringMatching(/limit is 6/),
    });
    // A scale beyond the replica quota changes nothing.
    const scale = await scaleEnvironment(ctx(root), {
      name: "admin-forever",
      frontendReplicas: 6,
      redisReplicas: 1,
      idempotencyKey: randomUUID(),
    });
    expect(scale.ok).toBe(false);
    const names = (await db.environment.findMany({ select: { name: true } })).map((e) => e.name).sort();
    expect(names).toEqual(
      ["admin-forever", "b-one", "b-three", "b-two", "shop-a", "t-one", "t-two"].filter((n) =>
        names.includes(n),
      ),
    );
    expect(names).not.toContain("big");
    expect(names).not.toContain("t-three");
    expect(names).not.toContain("one-more");
    Object.assign(quotas, q);
    const quotaRefusals = (await audits({ outcome: "refused" })).filter(
      (a) => (a.details as { code?: string }).code === "quota",
    );
    expect(quotaRefusals).toHaveLength(5);
  });

  it("rate limits per identity: over the limit the command is refused with the wait, nothing is recorded, and the refusal is audited", async () => {
    const limiter = postgresRateLimiter(pool, `test-${randomUUID()}`, 2);
    const limited = { rateLimiter: limiter, quotas: undefined };
    const cara = makePrincipal("cara@example.com", "admin");
    const first = await create(cara, "rl-one", {}, limited);
    const second = await destroyEnvironment(ctx(cara, limited), {
      name: "rl-one",
      confirmation: "rl-one",
      idempotencyKey: randomUUID(),
    });
    const third = await create(cara, "rl-two", {}, limited);
    expect(first.ok).toBe(true);
    expect(second.ok).toBe(false); // refused by state (create still queued) — but counted
    expect(third).toMatchObject({
      ok: false,
      code: "rate-limited",
      message: expect.stringMatching(/at most 2 actions a minute.*try again in \d+ s/),
    });
    expect(await db.environment.count({ where: { name: "rl-two" } })).toBe(0);
    // Another person is not affected.
    expect(await create(makePrincipal("dan@example.com", "admin"), "rl-dan", {}, limited)).toMatchObject({
      ok: true,
    });
    const entry = (await audits({ actor: "cara@example.com", environment: "rl-two" }))[0];
    expect(entry).toMatchObject({ outcome: "refused", action: "create" });
    expect(entry?.details).toMatchObject({ code: "rate-limited" });
  });

  it("removing a record keeps the row (soft delete), frees the name, and keeps the audit log", async () => {
    const local = await pg0.fresh();
    const d2 = createDbClient(local, { poolSize: 2 });
    const b2 = await startQueue(local, { role: "sender" });
    try {
      const c = { db: d2, boss: b2, principal: root, quotas };
      expect(
        (
          await createEnvironment(c, {
            name: "gone",
            target: "local",
            frontendReplicas: 1,
            redisReplicas: 1,
            idempotencyKey: randomUUID(),
          })
        ).ok,
      ).toBe(true);
      // Never started: it can be removed at once (cancel the queued create first).
      await d2.operation.updateMany({ data: { status: "cancelled" } });
      await d2.environment.updateMany({ data: { status: "failed" } });
      expect(await removeEnvironment(c, { name: "gone", idempotencyKey: randomUUID() })).toMatchObject({
        ok: true,
      });
      const rows = await d2.environment.findMany({ where: { name: "gone" } });
      expect(rows).toHaveLength(1);
      expect(rows[0]?.deletedAt).toBeInstanceOf(Date);
      expect(await d2.operation.count({ where: { environmentId: rows[0]?.id } })).toBe(1);
      expect(
        (
          await createEnvironment(c, {
            name: "gone",
            target: "local",
            frontendReplicas: 1,
            redisReplicas: 1,
            idempotencyKey: randomUUID(),
          })
        ).ok,
      ).toBe(true);
      const log = await d2.auditEvent.findMany({ where: { environment: "gone" }, orderBy: { id: "asc" } });
      expect(log.map((a) => `${a.action}:${a.outcome}`)).toEqual([
        "create:accepted",
        "remove:accepted",
        "create:accepted",
      ]);
      expect(log[0]?.environmentId).toBe(rows[0]?.id);
    } finally {
      await b2.stop({ graceful: false, wait: true });
      await d2.$disconnect();
    }
  });
});

describe("the web process's database role", () => {
  it("is refused on the Pulumi state table but can do the web's work", async () => {
    const owner = await pg0.fresh();
    const b = await startQueue(owner, { role: "sender" }); // the queue's schema, made by the owner
    await b.stop({ graceful: false, wait: true });
    const admin = new pg.Client({ connectionString: owner });
    await admin.connect();
    // The table as the Pulumi CLI's DIY backend makes it (as the worker's role).
    await admin.query(
      "CREATE TABLE IF NOT EXISTS pulumi_state (key TEXT PRIMARY KEY, data JSON, updated_at TIMESTAMPTZ)",
    );
    await admin.query(`INSERT INTO pulumi_state VALUES ('stack', '{"data":"c2VjcmV0"}', now())`);
    const password = randomUUID();
    await ensureLoginRole(owner, "portal_web_test", password);
    await grantWebRole(owner, "portal_web_test", "pulumi_state");
    const webUrl = withCredentials(owner, "portal_web_test", password);
    expect(await checkWebRole(owner, webUrl, "pulumi_state")).toEqual({
      role: "portal_web_test",
      problem: null,
    });
    expect((await checkWebRole(owner, owner, "pulumi_state")).problem).toMatch(/superuser|owner/);

    const web = new pg.Client({ connectionString: webUrl });
    await web.connect();
    try {
      for (const sql of [
        "SELECT * FROM pulumi_state",
        "INSERT INTO pulumi_state VALUES ('x', '{}', now())",
        "UPDATE pulumi_state SET data = '{}'",
        "DELETE FROM pulumi_state",
        "UPDATE audit_events SET reason = 'x'",
        "CREATE TABLE sneaky (x int)",
      ]) {
        await expect(web.query(sql), sql).rejects.toThrow(/permission denied/);
      }
      // What the web process does: read and write environments and operations, append to the audit log, send jobs.
      await web.query("SELECT count(*) FROM environments");
      await web.query(
        "INSERT INTO audit_events (actor, action, outcome) VALUES ('w', 'sign-in', 'accepted')",
      );
      const sender = await startQueue(webUrl, { role: "sender" });
      await sender.send("environment-operations", { operationId: randomUUID() });
      await sender.stop({ graceful: false, wait: true });
    } finally {
      await web.end();
      await admin.end();
    }
  });
});
