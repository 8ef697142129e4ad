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
