// Settings of the portal on AWS and of networks (issue 9): database URLs from parts, when the aws target is
// offered, the local target switch, adopted VPCs by region.
import { describe, expect, it } from "vitest";
import { ConfigError, limitsFrom, parseConfig } from "../../src/server/env";
import { createEnvironmentSchema } from "../../src/shared/environment-schemas";

describe("database URLs from parts", () => {
  it("builds DATABASE_URL and WEB_DATABASE_URL, encoding user and password, with the TLS settings", () => {
    const c = parseConfig({
      DATABASE_HOST: "db.abc.eu-west-1.rds.amazonaws.com",
      DATABASE_USER: "portal",
      DATABASE_PASSWORD: "p@ss:w/rd#?%",
      WEB_DATABASE_USER: "portal_web",
      WEB_DATABASE_PASSWORD: "w3b pass",
      DATABASE_SSLMODE: "verify-full",
      DATABASE_SSLROOTCERT: "/etc/ssl/certs/rds-global-bundle.pem",
    });
    expect(c.DATABASE_URL).toBe(
      "postgres://portal:p%40ss%3Aw%2Frd%23%3F%25@db.abc.eu-west-1.rds.amazonaws.com:5432/portal?sslmode=verify-full&sslrootcert=%2Fetc%2Fssl%2Fcerts%2Frds-global-bundle.pem",
    );
    const owner = new URL(c.DATABASE_URL as string);
    expect(decodeURIComponent(owner.password)).toBe("p@ss:w/rd#?%");
    expect(decodeURIComponent(new URL(c.WEB_DATABASE_URL as string).password)).toBe("w3b pass");
    expect(new URL(c.WEB_DATABASE_URL as string).username).toBe("portal_web");
  });

  it("a web-only process gets only its role's URL (no owner credentials)", () => {
    const c = parseConfig({
      DATABASE_HOST: "db",
      WEB_DATABASE_USER: "portal_web",
      WEB_DATABASE_PASSWORD: "x",
      PORTAL_ROLE: "web",
    });
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.WEB_DATABASE_URL).toBe("postgres://portal_web:x@db:5432/portal");
  });

  it("a DATABASE_URL given wins; half-given parts are refused naming them", () => {
    expect(parseConfig({ DATABASE_URL: "postgres://a:b@h/d", DATABASE_HOST: "x" }).DATABASE_URL).toBe(
      "postgres://a:b@h/d",
    );
    expect(() => parseConfig({ DATABASE_HOST: "h", DATABASE_USER: "u" })).toThrow(
      /DATABASE_USER: DATABASE_USER and DATABASE_PASSWORD go together/,
    );
    expect(() => parseConfig({ WEB_DATABASE_USER: "u", WEB_DATABASE_PASSWORD: "p" })).toThrow(
      /DATABASE_HOST: is required with DATABASE_USER or WEB_DATABASE_USER/,
    );
    expect(() => parseConfig({ DATABASE_HOST: "h", DATABASE_SSLMODE: "prefer" })).toThrow(ConfigError);
  });
});

describe("the aws target and the local target", () => {
  it("is offered with an ECS task role's or web identity's credentials, or AWS_ENABLED without any", () => {
    const regions = { AWS_REGIONS: "eu-west-1" };
    expect(limitsFrom(parseConfig(regions)).awsRegions).toEqual([]);
    for (const creds of [
      { AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials/x" },
      { AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://169.254.170.23/v1/credentials" },
      { AWS_WEB_IDENTITY_TOKEN_FILE: "/var/run/token" },
      { AWS_ENABLED: "true" },
    ]) {
      expect(limitsFrom(parseConfig({ ...regions, ...creds })).awsRegions, JSON.stringify(creds)).toEqual([
        "eu-west-1",
      ]);
    }
    expect(
      limitsFrom(parseConfig({ ...regions, AWS_PROFILE: "x", AWS_ENABLED: "false" })).awsRegions,
    ).toEqual([]);
  });

  it("LOCAL_TARGET=off takes the local target out of the form and refuses it on the server", () => {
    const limits = limitsFrom(
      parseConfig({ LOCAL_TARGET: "off", AWS_REGIONS: "eu-west-1", AWS_ENABLED: "1" }),
    );
    expect(limits.localTarget).toBe(false);
    const parsed = createEnvironmentSchema(limits).safeParse({
      name: "abc",
      target: "local",
      frontendReplicas: 1,
      redisReplicas: 1,
      idempotencyKey: "7a6f0b0e-3f5e-4c2b-9d3c-2a1b0c9d8e7f",
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]).toMatchObject({
      path: ["target"],
      message: "The local target is not offered on this portal.",
    });
    expect(limitsFrom(parseConfig({})).localTarget).toBe(true);
  });
});

describe("networks", () => {
  const vpc = {
    vpcId: "vpc-0123456789abcdef0",
    privateSubnetIds: ["subnet-0123456789abcdef1", "subnet-0123456789abcdef2"],
    publicSubnetIds: ["subnet-0123456789abcdef3", "subnet-0123456789abcdef4"],
  };
  it("reads adopted VPCs by region and the defaults of created networks", () => {
    const c = parseConfig({ AWS_REGIONS: "eu-west-1", AWS_NETWORKS: JSON.stringify({ "eu-west-1": vpc }) });
    expect(c.AWS_NETWORKS).toEqual({ "eu-west-1": vpc });
    expect(c.AWS_NETWORK_NAT_GATEWAYS).toBe("single");
    expect(c.AWS_NETWORK_AVAILABILITY_ZONES).toBe(2);
  });

  it("refuses an adopted VPC with too few private subnets, bad JSON, or a region not offered", () => {
    expect(() =>
      parseConfig({
        AWS_REGIONS: "eu-west-1",
        AWS_NETWORKS: JSON.stringify({
          "eu-west-1": { ...vpc, privateSubnetIds: ["subnet-0123456789abcdef1"] },
        }),
      }),
    ).toThrow(/AWS_NETWORKS: eu-west-1\.privateSubnetIds: privateSubnetIds needs at least 2 subnets/);
    expect(() => parseConfig({ AWS_NETWORKS: "{not json" })).toThrow(/AWS_NETWORKS: must be JSON/);
    expect(() =>
      parseConfig({ AWS_REGIONS: "us-east-1", AWS_NETWORKS: JSON.stringify({ "eu-west-1": vpc }) }),
    ).toThrow(/AWS_NETWORKS: names eu-west-1, which AWS_REGIONS does not offer/);
    expect(() => parseConfig({ AWS_NETWORK_AVAILABILITY_ZONES: "4" })).toThrow(
      /AWS_NETWORK_AVAILABILITY_ZONES/,
    );
    expect(() => parseConfig({ VOTING_APP_IMAGE: "voting-app" })).toThrow(/tag or digest/);
    expect(() => parseConfig({ AWS_ENVIRONMENT_ROLE_BOUNDARY: "boundary" })).toThrow(/IAM policy ARN/);
  });
});
