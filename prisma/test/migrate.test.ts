import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres } from "../src/embedded-postgres.js";
import {
  applyMigrations,
  createDbClient,
  type LocalPostgres,
  MigrationError,
  migrationsDir,
  readMigrations,
} from "../src/index.js";

let server: LocalPostgres;
let tmp: string;
let dbCounter = 0;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), "db-test-"));
  server = await startEmbeddedPostgres({ dataDir: path.join(tmp, "pg") });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const freshDatabase = () => server.database(`t${++dbCounter}_${process.pid}`);

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe("applyMigrations", () => {
  it("applies every committed migration once, then nothing", async () => {
    const url = await freshDatabase();
    const names = readMigrations().map((m) => m.name);
    expect(names.length).toBeGreaterThan(0);
    expect(await applyMigrations(url)).toEqual({ applied: names, alreadyApplied: [] });
    expect(await applyMigrations(url)).toEqual({ applied: [], alreadyApplied: names });
    const tables = await query<{ tablename: string }>(
      url,
      "SELECT tablename FROM pg_tables WHERE schemaname='public'",
    );
    expect(tables.map((t) => t.tablename).sort()).toEqual(
      [
        "_prisma_migrations",
        "api_idempotency_keys",
        "api_tokens",
        "audit_events",
        "environment_drift",
        "environments",
        "networks",
        "operation_events",
        "operations",
        "rate_limits",
        "webhook_deliveries",
        "webhooks",
      ].sort(),
    );
  });

  it("refuses a migration changed after it was applied", async () => {
    const url = await freshDatabase();
    const dir = path.join(tmp, "changed");
    cpSync(migrationsDir, dir, { recursive: true });
    await applyMigrations(url, dir);
    const first = readMigrations(dir)[0];
    if (!first) throw new Error("no migrations");
    writeFileSync(path.join(dir, first.name, "migration.sql"), `${first.sql}\n-- edited\n`);
    await expect(applyMigrations(url, dir)).rejects.toThrow(/changed after it was applied/);
  });

  it("rolls back a failing migration and applies nothing of it", async () => {
    const url = await freshDatabase();
    const dir = path.join(tmp, "failing");
    cpSync(migrationsDir, dir, { recursive: true });
    const bad = path.join(dir, "99999999999999_bad");
    cpSync(path.join(dir, readMigrations(dir)[0]?.name ?? ""), bad, { recursive: true });
    writeFileSync(
      path.join(bad, "migration.sql"),
      "CREATE TABLE half_done (id int);\nSELECT * FROM no_such_table;\n",
    );
    const error = await applyMigrations(url, dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect(String(error)).toMatch(/99999999999999_bad failed/);
    const tables = await query<{ tablename: string }>(
      url,
      "SELECT tablename FROM pg_tables WHERE tablename='half_done'",
    );
    expect(tables).toEqual([]);
    const recorded = await query<{ migration_name: string }>(
      url,
      `SELECT migration_name FROM "_prisma_migrations"`,
    );
    expect(recorded.map((r) => r.migration_name)).toEqual(readMigrations().map((m) => m.name));
  });

  it("keeps Prisma's bookkeeping: the Prisma CLI finds the database up to date", async () => {
    const url = await freshDatabase();
    await applyMigrations(url);
    const cli = path.resolve(import.meta.dirname, "../../node_modules/prisma/build/index.js");
    const { stdout } = await promisify(execFile)(process.execPath, [cli, "migrate", "status"], {
      cwd: path.resolve(import.meta.dirname, ".."),
      env: { ...process.env, DATABASE_URL: url, CHECKPOINT_DISABLE: "1" },
    });
    expect(stdout).toMatch(/Database schema is up to date/);
  }, 60_000);
});

describe("createDbClient", () => {
  it("reads and writes through the driver adapter and enforces one active operation per environment", async () => {
    const url = await freshDatabase();
    await applyMigrations(url);
    const db = createDbClient(url, { poolSize: 2 });
    try {
      const env = await db.environment.create({
        data: {
          name: "demo",
          target: "local",
          owner: "a@b.c",
          desiredFrontendReplicas: 2,
          desiredRedisReplicas: 1,
        },
      });
      const op = {
        environmentId: env.id,
        kind: "create" as const,
        requestedConfig: {},
        requestedBy: "a@b.c",
      };
      await db.operation.create({ data: op });
      await expect(db.operation.create({ data: op })).rejects.toThrow();
      await db.operation.updateMany({ where: { environmentId: env.id }, data: { status: "succeeded" } });
      await db.operation.create({ data: op });
      expect(await db.operation.count({ where: { environmentId: env.id } })).toBe(2);
    } finally {
      await db.$disconnect();
    }
  });
});

describe("access and audit tables", () => {
  it("keeps names unique among live environments only, and the audit log append-only", async () => {
    const url = await freshDatabase();
    await applyMigrations(url);
    const db = createDbClient(url, { poolSize: 2 });
    try {
      const data = {
        name: "demo",
        target: "local" as const,
        owner: "a@b.c",
        desiredFrontendReplicas: 1,
        desiredRedisReplicas: 1,
      };
      const first = await db.environment.create({ data });
      await expect(db.environment.create({ data })).rejects.toThrow();
      await db.environment.update({ where: { id: first.id }, data: { deletedAt: new Date() } });
      await db.environment.create({ data }); // the name is free again; the removed row stays
      expect(await db.environment.count({ where: { name: "demo" } })).toBe(2);

      const entry = await db.auditEvent.create({
        data: { actor: "a@b.c", action: "create", outcome: "accepted" },
      });
      await expect(
        db.auditEvent.update({ where: { id: entry.id }, data: { outcome: "refused" } }),
      ).rejects.toThrow(/append-only/);
      await expect(db.auditEvent.deleteMany({})).rejects.toThrow(/append-only/);
      await expect(db.$executeRawUnsafe("TRUNCATE audit_events")).rejects.toThrow(/append-only/);
      expect(await db.auditEvent.count()).toBe(1);
    } finally {
      await db.$disconnect();
    }
  });
});

describe("startEmbeddedPostgres", () => {
  it("runs PostgreSQL with a minimal environment and moves an old cluster to a new password", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "db-env-"));
    const saved = { ...process.env };
    process.env.PULUMI_CONFIG_PASSPHRASE = "do-not-leak";
    process.env.AWS_SECRET_ACCESS_KEY = "do-not-leak";
    try {
      const old = await startEmbeddedPostgres({ dataDir: path.join(dir, "pg"), password: "postgres" });
      await old.stop();
      const pgServer = await startEmbeddedPostgres({
        dataDir: path.join(dir, "pg"),
        password: "a-new-random-password",
        legacyPasswords: ["postgres"],
      });
      try {
        expect(pgServer.url).toContain("a-new-random-password");
        expect(await query(pgServer.url, "SELECT 1 AS one")).toEqual([{ one: 1 }]);
        // The server's own pid (its backends exit with their connection, so they are no witness).
        const postmaster = Number(
          readFileSync(path.join(dir, "pg", "postmaster.pid"), "utf8").split("\n")[0],
        );
        const environ = readFileSync(`/proc/${postmaster}/environ`, "utf8");
        expect(environ).not.toContain("do-not-leak");
        expect(
          environ
            .split("\0")
            .filter(Boolean)
            .map((kv) => kv.split("=")[0])
            .sort(),
        ).toEqual(["LANG", "LC_ALL", "LC_MESSAGES", "PATH", "TZ"]);
        // The old password no longer works.
        await expect(
          query(pgServer.url.replace("a-new-random-password", "postgres"), "SELECT 1"),
        ).rejects.toThrow(/password/);
      } finally {
        await pgServer.stop();
      }
    } finally {
      process.env = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
