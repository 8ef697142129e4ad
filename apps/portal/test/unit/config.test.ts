import { describe, expect, it } from "vitest";
import { devResolver } from "../../src/server/auth/resolvers";
import {
  ConfigError,
  defaultHostId,
  limitsFrom,
  parseConfig,
  workerConfigProblem,
} from "../../src/server/env";
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
  it("validates the worker, stream and observability settings", () => {
    const c = parseConfig({});
    expect(c).toMatchObject({
      HOST_ID: defaultHostId(),
      EVENT_STREAMS_MAX: 500,
      LOG_LEVEL: "info",
      METRICS_HOST: "127.0.0.1",
      METRICS_PORT: 9464,
      OPERATION_TIMEOUT_MINUTES: 120,
    });
    expect(c.METRICS_TOKEN).toBeUndefined();
    expect(defaultHostId()).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/);
    expect(parseConfig({ HOST_ID: "build-1.eu", METRICS_PORT: "0" })).toMatchObject({
      HOST_ID: "build-1.eu",
      METRICS_PORT: 0,
    });
    for (const [name, value] of [
      ["HOST_ID", "two words"],
      ["HOST_ID", "-leading"],
      ["METRICS_TOKEN", "short"],
      ["METRICS_PORT", "70000"],
      ["LOG_LEVEL", "loud"],
      ["EVENT_STREAMS_MAX", "0"],
      ["OPERATION_TIMEOUT_MINUTES", "0"],
    ]) {
      expect(() => parseConfig({ [name as string]: value }), `${name}=${value}`).toThrow(
        new RegExp(name as string),
      );
    }
  });
  it("requires one passphrase for workers on a shared database", () => {
    expect(workerConfigProblem(parseConfig({ DATABASE_URL: "postgres://u:p@db/portal" }))).toMatch(
      /PULUMI_CONFIG_PASSPHRASE must be set when DATABASE_URL is set/,
    );
    expect(
      workerConfigProblem(
        parseConfig({ DATABASE_URL: "postgres://u:p@db/portal", PULUMI_CONFIG_PASSPHRASE: "x" }),
      ),
    ).toBeNull();
    expect(workerConfigProblem(parseConfig({}))).toBeNull(); // embedded: generated into the data folder
  });
  it("points Pulumi at the same database with TLS off and its own table", () => {
    expect(pulumiBackendUrl("postgresql://u:p@h:5/db", "pulumi_state")).toBe(
      "postgres://u:p@h:5/db?sslmode=disable&table=pulumi_state",
    );
  });
});

describe("dev sign-in", () => {
  const resolve = (headers: Record<string, string>, env: Record<string, string> = {}) =>
    devResolver(parseConfig(env)).resolve({ header: (n) => headers[n] ?? null, cookie: () => undefined });

  it("takes the identity header's user (and groups), else the local user as an admin", async () => {
    expect(await resolve({ "x-forwarded-email": " ada@example.com " })).toMatchObject({
      ok: true,
      principal: { id: "ada@example.com", role: "admin" },
    });
    expect(await resolve({})).toMatchObject({ ok: true, principal: { id: "dev@localhost", role: "admin" } });
    expect(
      await resolve({
        "x-forwarded-email": "bo@example.com",
        "x-forwarded-groups": "portal-members, team-a",
      }),
    ).toMatchObject({ ok: true, principal: { id: "bo@example.com", role: "member", teams: ["team-a"] } });
    expect(await resolve({ "x-forwarded-groups": "elsewhere" })).toMatchObject({ ok: false });
  });

  it("refuses to listen beyond loopback, naming AUTH_MODE", () => {
    expect(() => parseConfig({ LISTEN_HOST: "0.0.0.0" })).toThrow(/AUTH_MODE=dev.*LISTEN_HOST=0\.0\.0\.0/s);
    expect(() => parseConfig({ LISTEN_HOST: "192.168.1.5", AUTH_MODE: "dev" })).toThrow(/AUTH_MODE/);
    expect(parseConfig({ LISTEN_HOST: "127.0.0.1" }).AUTH_MODE).toBe("dev");
    expect(parseConfig({ LISTEN_HOST: "::1" }).AUTH_MODE).toBe("dev");
    // A worker does not listen.
    expect(parseConfig({ LISTEN_HOST: "0.0.0.0", PORTAL_ROLE: "worker" }).AUTH_MODE).toBe("dev");
  });

  it("names what each sign-in mode needs", () => {
    expect(() => parseConfig({ AUTH_MODE: "oidc" })).toThrow(/OIDC_ISSUER_URL[\s\S]*OIDC_CLIENT_ID/);
    expect(() =>
      parseConfig({ AUTH_MODE: "oidc", OIDC_ISSUER_URL: "http://idp.test", OIDC_CLIENT_ID: "portal" }),
    ).toThrow(/https/);
    expect(() => parseConfig({ AUTH_MODE: "proxy-jwt" })).toThrow(
      /PROXY_JWT_HEADER[\s\S]*PROXY_JWT_ISSUER[\s\S]*PROXY_JWT_JWKS_URL[\s\S]*PROXY_JWT_AUDIENCE/,
    );
    const alb = parseConfig({
      AUTH_MODE: "proxy-jwt",
      LISTEN_HOST: "0.0.0.0",
      PROXY_JWT_HEADER: "X-Amzn-Oidc-Data",
      PROXY_JWT_ISSUER: "https://idp.example.com",
      PROXY_JWT_PEM_KEY_URL: "https://public-keys.auth.elb.eu-west-1.amazonaws.com/{kid}",
      PROXY_JWT_ALB_ARN: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/portal/abc",
    });
    expect(alb.PROXY_JWT_HEADER).toBe("x-amzn-oidc-data");
    expect(alb.PROXY_JWT_ALGORITHMS).toEqual(["RS256", "ES256"]);
  });
});
