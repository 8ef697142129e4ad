import { describe, expect, it } from "vitest";
import { ConfigError, limitsFrom, parseConfig } from "../../src/server/env";
import { userFrom } from "../../src/server/identity";
import { pulumiBackendUrl } from "../../src/server/worker/operations";

describe("configuration", () => {
  it("has defaults for everything", () => {
    const c = parseConfig({});
    expect(c).toMatchObject({
      PORT: 3000,
      PORTAL_ROLE: "all",
      AUTH_USER_HEADER: "x-forwarded-email",
      LOCAL_USER: "dev@localhost",
    });
    expect(limitsFrom(c).awsRegions).toEqual([]);
  });
  it("offers aws only with credentials and regions", () => {
    expect(limitsFrom(parseConfig({ AWS_REGIONS: "eu-west-1, us-east-1" })).awsRegions).toEqual([]);
    expect(
      limitsFrom(parseConfig({ AWS_REGIONS: "eu-west-1, us-east-1", AWS_PROFILE: "x" })).awsRegions,
    ).toEqual(["eu-west-1", "us-east-1"]);
  });
  it("names every bad variable", () => {
    expect(() =>
      parseConfig({ PORTAL_ROLE: "both", FRONTEND_REPLICAS_MIN: "5", FRONTEND_REPLICAS_MAX: "2" }),
    ).toThrow(ConfigError);
    try {
      parseConfig({ PORTAL_ROLE: "both", DATABASE_URL: "mysql://x" });
    } catch (e) {
      expect(String(e)).toMatch(/PORTAL_ROLE/);
      expect(String(e)).toMatch(/DATABASE_URL/);
    }
  });
  it("points Pulumi at the same database with TLS off and its own table", () => {
    expect(pulumiBackendUrl("postgresql://u:p@h:5/db", "pulumi_state")).toBe(
      "postgres://u:p@h:5/db?sslmode=disable&table=pulumi_state",
    );
  });
});

describe("identity", () => {
  it("takes the trusted header's user, else the local default", () => {
    expect(userFrom(" ada@example.com ", "dev@localhost")).toBe("ada@example.com");
    expect(userFrom(null, "dev@localhost")).toBe("dev@localhost");
    expect(userFrom("", "dev@localhost")).toBe("dev@localhost");
    expect(userFrom("x".repeat(201), "dev@localhost")).toBe("dev@localhost");
  });
});
