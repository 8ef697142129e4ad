import { randomUUID } from "node:crypto";
import { environmentSpecSchema } from "@platform/infra/spec";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import {
  createEnvironmentSchema,
  destroyEnvironmentSchema,
  environmentNameSchema,
  existingEnvironmentNameSchema,
  fieldErrors,
  type Limits,
  listFilterSchema,
  scaleEnvironmentSchema,
} from "../../src/shared/environment-schemas";
import { storedTierOptions, tierOptionsOf } from "../../src/shared/tier-options";

const limits: Limits = {
  frontendReplicas: { min: 1, max: 10 },
  redisReplicas: { min: 1, max: 5 },
  awsRegions: [],
  maxTtlHours: 48,
  defaultTtlHours: 24,
  replicasPerEnvironment: 15,
};
const key = randomUUID();
const form = (over: Record<string, unknown> = {}) => ({
  name: "team-a",
  target: "local",
  region: "",
  frontendReplicas: "2",
  redisReplicas: "1",
  ttlHours: "",
  idempotencyKey: key,
  ...over,
});

describe("environment name", () => {
  it.each(["abc", "team-a", "a1-b2", "x".repeat(20)])("accepts %s", (n) => {
    expect(environmentNameSchema.safeParse(n).success).toBe(true);
  });
  it.each([
    ["ab", /at least 3/],
    ["x".repeat(21), /at most 20/],
    ["internal-tools", /internal/],
    ["1abc", /Start with a lower-case letter/],
    ["Team", /Start with a lower-case letter/],
    ["a_b-c", /only lower-case letters/],
    ["abc-", /end with a dash/],
    ["a--b", /two dashes/],
  ])("refuses %s", (n, message) => {
    const r = environmentNameSchema.safeParse(n);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(message);
  });
});

describe("names that are pages of the portal", () => {
  it.each(["new", "api", "settings", "operations", "edit", "audit"])(
    "refuses %s as a new environment's name, saying it is reserved",
    (n) => {
      const r = createEnvironmentSchema(limits).safeParse(form({ name: n }));
      expect(r.success).toBe(false);
      expect(fieldErrors(r.error as z.ZodError).name).toBe(
        `“${n}” is reserved for the portal's own pages (e.g. /environments/new). Choose another name.`,
      );
    },
  );
  it("still addresses an existing environment by such a name (created before the word was reserved)", () => {
    expect(
      scaleEnvironmentSchema(limits).safeParse({
        name: "new",
        frontendReplicas: "2",
        redisReplicas: "1",
        idempotencyKey: key,
      }).success,
    ).toBe(true);
    expect(existingEnvironmentNameSchema.safeParse("new").success).toBe(true);
  });
});

describe("create form", () => {
  it("coerces form strings and leaves optional fields unset", () => {
    const r = createEnvironmentSchema(limits).parse(form());
    expect(r).toEqual({
      name: "team-a",
      target: "local",
      frontendReplicas: 2,
      redisReplicas: 1,
      idempotencyKey: key,
      // The tier options' defaults: Redis on Fargate, no database.
      cacheKind: "redis",
      database: "none",
    });
    expect(tierOptionsOf(r)).toEqual({});
  });
  it("turns the cache and database fields into the spec's options, as infra's schemas read them", () => {
    const r = createEnvironmentSchema(limits).parse(
      form({
        cacheKind: "elasticache",
        cacheNodeType: "cache.t4g.small",
        database: "postgres",
        dbInstanceClass: "db.t4g.medium",
        dbStorageGb: "50",
        dbBackupRetentionDays: "0",
        dbDeletionProtection: "on",
      }),
    );
    const options = tierOptionsOf(r);
    expect(options).toEqual({
      cache: { kind: "elasticache", nodeType: "cache.t4g.small" },
      database: {
        engine: "postgres",
        instanceClass: "db.t4g.medium",
        storageGb: 50,
        backupRetentionDays: 0,
        deletionProtection: true,
      },
    });
    // What the worker hands to the operations passes the operations' own schema unchanged.
    const spec = { name: "team-a", target: "local", frontendReplicas: 2, redisReplicas: 1, ...options };
    expect(environmentSpecSchema.parse(spec)).toEqual(spec);
    // Only the chosen database's fields count: PostgreSQL fields are ignored with "None".
    expect(tierOptionsOf(createEnvironmentSchema(limits).parse(form({ dbStorageGb: "50" })))).toEqual({});
  });
  it("refuses tier options outside the spec's lists and bounds, each with its field's message", () => {
    const r = createEnvironmentSchema(limits).safeParse(
      form({
        cacheKind: "memcached",
        cacheNodeType: "cache.x1.huge",
        database: "mysql",
        dbInstanceClass: "db.x1.huge",
        dbStorageGb: "10",
        dbBackupRetentionDays: "40",
      }),
    );
    const errors = fieldErrors(r.error as z.ZodError);
    expect(errors.cacheKind).toBe("Choose a cache.");
    expect(errors.cacheNodeType).toBe("Choose one of the offered node types.");
    expect(errors.database).toBe("Choose a database.");
    expect(errors.dbInstanceClass).toBe("Choose one of the offered instance classes.");
    expect(errors.dbStorageGb).toBe("Storage: at least 20 GiB.");
    expect(errors.dbBackupRetentionDays).toBe("Backup retention: 0 (off) to 35 days.");
  });
  it("reads a stored options column defensively", () => {
    expect(storedTierOptions({})).toEqual({});
    expect(storedTierOptions(null)).toEqual({});
    expect(storedTierOptions({ cache: { kind: "elasticache" }, database: { engine: "oracle" } })).toEqual({
      cache: { kind: "elasticache", nodeType: "cache.t4g.micro" },
    });
  });
  it("reports each bad field with its own message", () => {
    const r = createEnvironmentSchema(limits).safeParse(
      form({ name: "A", frontendReplicas: "11", redisReplicas: "0", ttlHours: "49" }),
    );
    expect(r.success).toBe(false);
    const errors = fieldErrors(r.error as z.ZodError);
    expect(errors.name).toMatch(/at least 3/);
    expect(errors.frontendReplicas).toBe("Frontend replicas: at most 10.");
    expect(errors.redisReplicas).toBe("Redis replicas: at least 1.");
    expect(errors.ttlHours).toBe("Time to live: at most 48 hours.");
  });
  it("offers aws only when configured, and then needs an offered region", () => {
    expect(
      fieldErrors(createEnvironmentSchema(limits).safeParse(form({ target: "aws" })).error as z.ZodError)
        .target,
    ).toMatch(/not configured/);
    const withAws = createEnvironmentSchema({ ...limits, awsRegions: ["eu-west-1"] });
    expect(
      fieldErrors(withAws.safeParse(form({ target: "aws", region: "mars-1" })).error as z.ZodError).region,
    ).toMatch(/offered regions/);
    expect(withAws.parse(form({ target: "aws", region: "eu-west-1" })).region).toBe("eu-west-1");
  });
  it("needs the idempotency key", () => {
    expect(createEnvironmentSchema(limits).safeParse(form({ idempotencyKey: "" })).success).toBe(false);
  });
});

describe("scale and destroy forms", () => {
  it("bounds replicas from configuration", () => {
    const s = scaleEnvironmentSchema({ ...limits, frontendReplicas: { min: 2, max: 3 } });
    expect(
      s.safeParse({ name: "abc", frontendReplicas: "1", redisReplicas: "1", idempotencyKey: key }).success,
    ).toBe(false);
    expect(
      s.safeParse({ name: "abc", frontendReplicas: "3", redisReplicas: "1", idempotencyKey: key }).success,
    ).toBe(true);
  });
  it("destroy needs the exact name typed", () => {
    const bad = destroyEnvironmentSchema.safeParse({ name: "abc", confirmation: "ab", idempotencyKey: key });
    expect(fieldErrors(bad.error as z.ZodError).confirmation).toMatch(/Type the environment's name/);
    expect(
      destroyEnvironmentSchema.safeParse({ name: "abc", confirmation: " abc ", idempotencyKey: key }).success,
    ).toBe(true);
  });
});

describe("list filter", () => {
  it("defaults and ignores nonsense", () => {
    expect(listFilterSchema.parse({})).toEqual({ status: "active", mine: false, page: 1 });
    expect(listFilterSchema.parse({ status: "bogus", mine: "7", page: "-3" })).toEqual({
      status: "active",
      mine: false,
      page: 1,
    });
    expect(listFilterSchema.parse({ status: "failed", mine: "1", page: "2" })).toEqual({
      status: "failed",
      mine: true,
      page: 2,
    });
  });
});
