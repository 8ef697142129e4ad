import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServer, startRedisServer } from "../src/dev/redis-server.js";
import { counts, eventually, startTestApp, vote } from "./helpers/app.js";

/**
 * TLS and AUTH to Redis, as ElastiCache with in-transit encryption and an auth token serves it: a real
 * redis-server with a TLS port only (no plaintext port) and `requirepass`, its certificate signed by a CA made
 * here with openssl.
 */
let dir: string;
let redis: RedisServer;
const PASSWORD = "tls-test-password-0123456789";
let files: { ca: string; otherCa: string; cert: string; key: string };

function openssl(...args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "voting-tls-"));
  const file = (name: string) => path.join(dir, name);
  files = {
    ca: file("ca.pem"),
    otherCa: file("other-ca.pem"),
    cert: file("server.pem"),
    key: file("server.key"),
  };
  const subject = (cn: string) => ["-subj", `/CN=${cn}`];
  openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    ...subject("test CA"),
  );
  openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-keyout",
    "other-ca.key",
    "-out",
    "other-ca.pem",
    ...subject("other CA"),
  );
  openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    ...subject("redis"),
  );
  writeFileSync(file("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  openssl(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    "san.ext",
    "-out",
    "server.pem",
  );
  redis = await startRedisServer({
    password: PASSWORD,
    tls: { certFile: files.cert, keyFile: files.key, caFile: files.ca },
  });
});
afterAll(async () => {
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const env = (extra: Record<string, string>) => ({
  REDIS_PORT: String(redis.port),
  REDIS_TLS: "true",
  REDIS_TLS_CA_FILE: files.ca,
  REDIS_PASSWORD: PASSWORD,
  ...extra,
});

describe("Redis over TLS with AUTH", () => {
  it("votes and reads tallies over TLS, checking the server's certificate", async () => {
    const app = await startTestApp(env({ REDIS_KEY: "tls:votes" }));
    try {
      expect((await vote(app.url, "Cats")).status).toBe(201);
      expect(await counts(app.url)).toEqual({ Cats: 1, Dogs: 0 });
    } finally {
      await app.close();
    }
  });

  it("is not ready with a certificate from an unknown CA", async () => {
    const app = await startTestApp(env({ REDIS_TLS_CA_FILE: files.otherCa }), false);
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const res = await fetch(`${app.url}/readyz`);
      expect(res.status).toBe(503);
    } finally {
      await app.close();
    }
  });

  it("is not ready with a wrong password, and says why", async () => {
    const app = await startTestApp(env({ REDIS_PASSWORD: "wrong-password-0123456789" }), false);
    try {
      expect(
        await eventually(async () => {
          const body = (await (await fetch(`${app.url}/readyz`)).json()) as {
            checks: { primary: { ok: boolean; error?: string } };
          };
          return body.checks.primary.ok === false && /WRONGPASS/.test(body.checks.primary.error ?? "");
        }, 5000),
      ).toBe(true);
    } finally {
      await app.close();
    }
  });

  it("does not speak plaintext to a TLS-only server", async () => {
    const app = await startTestApp({ REDIS_PORT: String(redis.port), REDIS_PASSWORD: PASSWORD }, false);
    try {
      await new Promise((r) => setTimeout(r, 1500));
      expect((await fetch(`${app.url}/readyz`)).status).toBe(503);
    } finally {
      await app.close();
    }
  });
});
