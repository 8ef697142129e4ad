import os from "node:os";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";

describe("loadConfig", () => {
  it("applies the documented defaults", () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.host).toBe("0.0.0.0");
    expect(c.options).toEqual(["Cats", "Dogs"]);
    expect(c.title).toBe("Cats or Dogs?");
    expect(c.replicaName).toBe(os.hostname());
    expect(c.redis).toEqual({
      primary: { host: "127.0.0.1", port: 6379 },
      read: undefined,
      password: undefined,
      tls: false,
      key: "voting-app:votes",
    });
  });

  it("reads every variable", () => {
    const c = loadConfig({
      PORT: "9000",
      HOST: "127.0.0.1",
      APP_TITLE: "Lunch?",
      VOTE_OPTIONS: " Pizza , Sushi ,Tacos",
      REPLICA_NAME: "replica-2",
      REDIS_HOST: "redis.internal",
      REDIS_PORT: "6380",
      REDIS_PASSWORD: "s3cret",
      REDIS_TLS: "true",
      REDIS_READ_HOST: "replica.internal",
    });
    expect(c).toMatchObject({
      port: 9000,
      host: "127.0.0.1",
      title: "Lunch?",
      options: ["Pizza", "Sushi", "Tacos"],
      replicaName: "replica-2",
      redis: {
        primary: { host: "redis.internal", port: 6380 },
        // the read port defaults to REDIS_PORT
        read: { host: "replica.internal", port: 6380 },
        password: "s3cret",
        tls: true,
      },
    });
  });

  it("has no database unless one is configured", () => {
    expect(loadConfig({}).database).toBeUndefined();
  });

  it("reads the database from DATABASE_URL, with the documented defaults", () => {
    const c = loadConfig({ DATABASE_URL: "postgres://votes:p%40ss@db.internal:6543/voting" });
    expect(c.database).toEqual({
      host: "db.internal",
      port: 6543,
      database: "voting",
      user: "votes",
      password: "p@ss",
      ssl: "disable",
      sslCaFile: undefined,
      flushIntervalMs: 50,
      batchMax: 2000,
      backlogMax: 100_000,
    });
  });

  it("reads the database from separate variables (the password as its own secret)", () => {
    const c = loadConfig({
      DATABASE_HOST: "db.abc.eu-west-1.rds.amazonaws.com",
      DATABASE_NAME: "voting",
      DATABASE_USER: "voting_admin",
      DATABASE_PASSWORD: "from-secrets-manager",
      DATABASE_SSL: "require",
      DATABASE_FLUSH_INTERVAL_MS: "100",
      DATABASE_BATCH_MAX: "500",
      DATABASE_BACKLOG_MAX: "5000",
    });
    expect(c.database).toMatchObject({
      host: "db.abc.eu-west-1.rds.amazonaws.com",
      port: 5432,
      database: "voting",
      user: "voting_admin",
      password: "from-secrets-manager",
      ssl: "require",
      flushIntervalMs: 100,
      batchMax: 500,
      backlogMax: 5000,
    });
  });

  it("treats empty variables as unset", () => {
    expect(loadConfig({ PORT: "", REDIS_READ_HOST: "" }).port).toBe(8080);
  });

  it.each([
    [{ PORT: "abc" }, "PORT must be a whole number"],
    [{ PORT: "70000" }, "PORT must be a whole number"],
    [{ REDIS_PORT: "0" }, "REDIS_PORT must be between 1 and 65535"],
    [{ VOTE_OPTIONS: "Cats" }, "VOTE_OPTIONS must list between 2"],
    [{ VOTE_OPTIONS: "Cats,,Dogs" }, "must not contain empty options"],
    [{ VOTE_OPTIONS: "Cats,cats" }, 'option "cats" is listed twice'],
    [{ REDIS_TLS: "maybe" }, "REDIS_TLS must be true or false"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL must be one of"],
    [{ REDIS_READ_PORT: "6380" }, "REDIS_READ_PORT is set but REDIS_READ_HOST is not"],
    [{ REDIS_HOST: "bad host!" }, "REDIS_HOST must be a host name or IP address"],
    [{ REDIS_TLS_CA_FILE: "/nonexistent/ca.pem", REDIS_TLS: "true" }, "REDIS_TLS_CA_FILE: no such file"],
    [{ REDIS_TLS_CA_FILE: "/etc/hostname" }, "REDIS_TLS_CA_FILE applies only with REDIS_TLS=true"],
    [
      { DATABASE_URL: "mysql://u:p@h/db" },
      "DATABASE_URL must be postgres://user:password@host:port/database",
    ],
    [
      { DATABASE_URL: "postgres://u:p@h" },
      "DATABASE_URL must be postgres://user:password@host:port/database",
    ],
    [{ DATABASE_URL: "postgres://h:5432/db" }, "DATABASE_URL must name the user"],
    [
      { DATABASE_URL: "postgres://u@h/db", DATABASE_HOST: "h" },
      "DATABASE_HOST and DATABASE_URL are both set",
    ],
    [{ DATABASE_HOST: "db.internal" }, "DATABASE_USER is required with DATABASE_HOST"],
    [{ DATABASE_SSL: "prefer" }, "DATABASE_SSL must be one of disable, require, verify-full"],
    [
      { DATABASE_SSL_CA_FILE: "/etc/hostname" },
      "DATABASE_SSL_CA_FILE applies only with DATABASE_SSL=verify-full",
    ],
    [
      { DATABASE_FLUSH_INTERVAL_MS: "1" },
      "DATABASE_FLUSH_INTERVAL_MS must be a whole number between 5 and 10000",
    ],
    [{ DATABASE_BATCH_MAX: "0" }, "DATABASE_BATCH_MAX must be a whole number between 1 and 10000"],
    [{ DATABASE_BACKLOG_MAX: "lots" }, "DATABASE_BACKLOG_MAX must be a whole number between 10 and 10000000"],
  ])("rejects %o", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it("lists every problem at once", () => {
    try {
      loadConfig({ PORT: "x", REDIS_TLS: "nope" });
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).problems).toHaveLength(2);
    }
  });
});
