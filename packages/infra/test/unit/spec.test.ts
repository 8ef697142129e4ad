import { describe, expect, it } from "vitest";
import {
  environmentNameSchema,
  existingEnvironmentNameSchema,
  RESERVED_ENVIRONMENT_NAMES,
} from "../../src/environment-name";
import { environmentRefSchema, environmentSpecSchema, operationsConfigSchema } from "../../src/spec";

const ok = { name: "team-a", target: "local", frontendReplicas: 2, redisReplicas: 1 };

describe("environmentSpecSchema", () => {
  it("accepts a local spec and an aws spec with a region", () => {
    expect(environmentSpecSchema.parse(ok)).toEqual(ok);
    expect(
      environmentSpecSchema.safeParse({ ...ok, target: "aws", aws: { region: "eu-west-1" } }).success,
    ).toBe(true);
  });

  it.each([
    [{ ...ok, name: "Team A" }, "name"],
    [{ ...ok, name: "-a" }, "name"],
    [{ ...ok, name: "a".repeat(21) }, "name"],
    [{ ...ok, frontendReplicas: 0 }, "frontendReplicas"],
    [{ ...ok, redisReplicas: 1.5 }, "redisReplicas"],
    [{ ...ok, target: "gcp" }, "target"],
    [{ ...ok, target: "aws" }, "aws"],
    [{ ...ok, local: { voteOptions: "OnlyOne" } }, "local"],
    [{ ...ok, surprise: true }, ""],
    [{ ...ok, cache: { kind: "memcached" } }, "cache.kind"],
    [{ ...ok, cache: { kind: "elasticache", nodeType: "cache.x9.huge" } }, "cache.nodeType"],
    [{ ...ok, database: { engine: "postgres", storageGb: 5 } }, "database.storageGb"],
    [{ ...ok, database: { engine: "postgres", backupRetentionDays: 36 } }, "database.backupRetentionDays"],
    [{ ...ok, database: { engine: "postgres", instanceClass: "db.x9.huge" } }, "database.instanceClass"],
    [{ ...ok, database: { engine: "postgres", deletionProtection: "yes" } }, "database.deletionProtection"],
    [{ ...ok, database: { engine: "none" } }, "database.engine"],
  ])("rejects %j (at %s)", (spec, where) => {
    const result = environmentSpecSchema.safeParse(spec);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join(".")).join(" ")).toContain(where);
  });
});

describe("tier options", () => {
  it("are absent by default (Redis on Fargate, no database) and fill in their defaults when given", () => {
    const parsed = environmentSpecSchema.parse({
      ...ok,
      cache: { kind: "elasticache" },
      database: { engine: "postgres" },
    });
    expect(parsed.cache).toEqual({ kind: "elasticache", nodeType: "cache.t4g.micro" });
    expect(parsed.database).toEqual({
      engine: "postgres",
      instanceClass: "db.t4g.micro",
      storageGb: 20,
      backupRetentionDays: 1,
      deletionProtection: false,
    });
    expect(environmentSpecSchema.parse(ok).cache).toBeUndefined();
  });
});

describe("environmentRefSchema and operationsConfigSchema", () => {
  it("validate references and backend URLs", () => {
    expect(environmentRefSchema.safeParse({ name: "abc", target: "local" }).success).toBe(true);
    expect(environmentRefSchema.safeParse({ name: "", target: "local" }).success).toBe(false);
    expect(
      operationsConfigSchema.safeParse({ backendUrl: "file:///tmp/state", dataDir: "/tmp/d" }).success,
    ).toBe(true);
    expect(operationsConfigSchema.safeParse({ backendUrl: "mysql://x", dataDir: "/tmp/d" }).success).toBe(
      false,
    );
  });
});

describe("reserved names", () => {
  it("refuses a route word as a new environment's name, saying why", () => {
    for (const word of ["new", "api", "settings", "operations"]) {
      const r = environmentNameSchema.safeParse(word);
      expect(r.success, word).toBe(false);
      expect(r.error?.issues[0]?.message).toBe(
        `“${word}” is reserved for the portal's own pages (e.g. /environments/new). Choose another name.`,
      );
    }
    // Words that only contain a reserved one are fine.
    for (const name of ["new-app", "renew", "apis", "newer"])
      expect(environmentNameSchema.safeParse(name).success).toBe(true);
  });

  it("still lets the operations address an environment created before a word was reserved", () => {
    expect(existingEnvironmentNameSchema.safeParse("new").success).toBe(true);
    expect(environmentRefSchema.safeParse({ name: "new", target: "local" }).success).toBe(true);
    expect(environmentSpecSchema.safeParse({ ...ok, name: "new" }).success).toBe(true);
    expect(RESERVED_ENVIRONMENT_NAMES).toContain("new");
  });
});
