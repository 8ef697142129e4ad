// Token format (prefix, checksum, hash, bearer header), the webhook URL policy (SSRF) and signatures, the API's
// error statuses and idempotency fingerprints: pure functions, no database.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { verifyWebhookSignature } from "../../../../packages/cli/src/webhook-signature";
import { API_ERROR_STATUS, invalidInput } from "../../src/features/api/errors";
import { deterministicUuid, fingerprintOf } from "../../src/features/api/idempotency";
import {
  bearerToken,
  generateToken,
  hashToken,
  isWellFormedToken,
  TOKEN_PATTERN,
  tokenDisplayPrefix,
} from "../../src/features/tokens/token-format";
import { signatureHeader } from "../../src/features/webhooks/signature";
import { addressKind, urlFormRefusal, webhookUrlRefusal } from "../../src/features/webhooks/url-policy";
import { createEnvironmentSchema } from "../../src/shared/environment-schemas";
import { webhookRefusal } from "../../src/shared/webhook-schemas";

describe("personal access tokens", () => {
  it("look like envp_ + 36 base62 characters, differ every time, and carry a checksum", () => {
    const a = generateToken();
    const b = generateToken();
    expect(a).toMatch(TOKEN_PATTERN);
    expect(a).not.toBe(b);
    expect(isWellFormedToken(a)).toBe(true);
    // One changed character breaks the checksum: typos are refused without a database lookup.
    const i = 10;
    const typo = a.slice(0, i) + (a[i] === "A" ? "B" : "A") + a.slice(i + 1);
    expect(isWellFormedToken(typo)).toBe(false);
    expect(isWellFormedToken(`${a}x`)).toBe(false);
    expect(isWellFormedToken("envp_short")).toBe(false);
  });
  it("are stored as a SHA-256 hash and shown by their first characters", () => {
    const t = generateToken();
    expect(hashToken(t)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(t)).toBe(hashToken(t));
    expect(tokenDisplayPrefix(t)).toBe(t.slice(0, 9));
  });
  it("are read from an Authorization: Bearer header only when they have the prefix", () => {
    const t = generateToken();
    expect(bearerToken(`Bearer ${t}`)).toBe(t);
    expect(bearerToken(`bearer   ${t} `)).toBe(t);
    expect(bearerToken("Bearer eyJhbGciOi.x.y")).toBeNull(); // an ID token (oauth2-proxy) is not ours
    expect(bearerToken(null)).toBeNull();
  });
});

describe("webhook URLs (SSRF)", () => {
  const strict = { allowLoopback: false, privateHosts: [] };
  const dev = { allowLoopback: true, privateHosts: [] };
  it("classifies addresses", () => {
    expect(addressKind("8.8.8.8")).toBe("public");
    expect(addressKind("127.0.0.1")).toBe("loopback");
    expect(addressKind("::1")).toBe("loopback");
    expect(addressKind("10.1.2.3")).toBe("private");
    expect(addressKind("172.20.0.1")).toBe("private");
    expect(addressKind("192.168.1.1")).toBe("private");
    expect(addressKind("fd12::1")).toBe("private");
    expect(addressKind("169.254.169.254")).toBe("forbidden");
    expect(addressKind("fe80::1")).toBe("forbidden");
    expect(addressKind("0.0.0.0")).toBe("forbidden");
    expect(addressKind("::ffff:10.0.0.1")).toBe("private"); // IPv4-mapped IPv6 is its IPv4 address
    expect(addressKind("::ffff:169.254.169.254")).toBe("forbidden");
    expect(addressKind("2606:4700::1111")).toBe("public");
  });
  it("wants https, no credentials, and no internal address unless allowed", async () => {
    expect(urlFormRefusal("https://8.8.8.8/hook", strict)).toBeNull();
    expect(urlFormRefusal("http://8.8.8.8/hook", strict)).toMatch(/https/);
    expect(urlFormRefusal("ftp://x.example/hook", strict)).toMatch(/https/);
    expect(urlFormRefusal("https://user:pw@8.8.8.8/", strict)).toMatch(/user and password/);
    expect(urlFormRefusal("not a url", strict)).toMatch(/full URL/);
    expect(urlFormRefusal("https://169.254.169.254/latest/meta-data", dev)).toMatch(/never receives/);
    expect(urlFormRefusal("https://[::ffff:169.254.169.254]/", dev)).toMatch(/never receives/);
    expect(urlFormRefusal("https://10.0.0.5/hook", strict)).toMatch(/WEBHOOK_PRIVATE_HOSTS/);
    expect(urlFormRefusal("http://127.0.0.1:9/hook", strict)).toMatch(/https/);
    expect(urlFormRefusal("https://localhost/hook", strict)).toMatch(/WEBHOOK_ALLOW_LOOPBACK/);
    expect(urlFormRefusal("http://127.0.0.1:9/hook", dev)).toBeNull();
    expect(urlFormRefusal("http://localhost:9/hook", dev)).toBeNull();
    // A listed host may resolve to a private address (checked again at delivery).
    expect(
      await webhookUrlRefusal("https://localhost/x", { allowLoopback: false, privateHosts: [] }),
    ).toMatch(/loopback/);
  });
});

describe("webhook signatures", () => {
  const secret = "whsec_test";
  const body = JSON.stringify({ id: "d1", event: "operation.finished" });
  it("sign t.body with HMAC-SHA256; the documented verifier accepts them and rejects tampering and replays", () => {
    const at = new Date("2026-12-01T10:00:00Z");
    const header = signatureHeader(secret, body, at);
    const t = Math.floor(at.getTime() / 1000);
    expect(header).toBe(`t=${t},v1=${createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")}`);
    expect(verifyWebhookSignature({ secret, header, body, now: at })).toEqual({ ok: true, timestamp: t });
    expect(verifyWebhookSignature({ secret, header, body: body.replace("d1", "d2"), now: at }).ok).toBe(
      false,
    );
    expect(verifyWebhookSignature({ secret: "whsec_other", header, body, now: at }).ok).toBe(false);
    const later = new Date(at.getTime() + 10 * 60_000);
    expect(verifyWebhookSignature({ secret, header, body, now: later })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/timestamp/),
    });
    expect(verifyWebhookSignature({ secret, header: "v1=abc", body, now: at }).ok).toBe(false);
    expect(verifyWebhookSignature({ secret, header: undefined, body, now: at }).ok).toBe(false);
  });
  it("only admins and the team's members manage a team's webhooks", () => {
    expect(webhookRefusal({ role: "admin", teams: [] }, null)).toBeNull();
    expect(webhookRefusal({ role: "member", teams: ["team-a"] }, "team-a")).toBeNull();
    expect(webhookRefusal({ role: "member", teams: ["team-a"] }, "team-b")).toMatch(/team-b/);
    expect(webhookRefusal({ role: "member", teams: ["team-a"] }, null)).toMatch(/admins/);
    expect(webhookRefusal({ role: "viewer", teams: ["team-a"] }, "team-a")).toMatch(/viewer/);
  });
});

describe("the API's errors and idempotency", () => {
  it("maps each error code to one status", () => {
    expect(API_ERROR_STATUS).toMatchObject({
      "bad-request": 400,
      unauthenticated: 401,
      forbidden: 403,
      "insufficient-scope": 403,
      quota: 403,
      "not-found": 404,
      refused: 409,
      conflict: 409,
      invalid: 422,
      "idempotency-key-reused": 422,
      "rate-limited": 429,
    });
  });
  it("names every invalid field, and unknown fields are errors (not silently dropped)", () => {
    const limits = {
      frontendReplicas: { min: 1, max: 10 },
      redisReplicas: { min: 1, max: 5 },
      awsRegions: [],
      maxTtlHours: 336,
      defaultTtlHours: 24,
      replicasPerEnvironment: 12,
    };
    const parsed = createEnvironmentSchema(limits)
      .strict()
      .safeParse({ name: "Bad", target: "local", frontendReplicas: 0, redisReplicas: 1, cach: "x" });
    expect(parsed.success).toBe(false);
    const error = invalidInput(parsed.error as never);
    expect(error.status).toBe(422);
    expect(error.field).toBe("name");
    expect(Object.keys(error.fields ?? {})).toEqual(
      expect.arrayContaining(["name", "frontendReplicas", "idempotencyKey", "cach"]),
    );
  });
  it("fingerprints a body whatever its key order, and derives one UUID per person and key", () => {
    expect(fingerprintOf("POST", "/x", { a: 1, b: [1, { c: 2, d: 3 }] })).toBe(
      fingerprintOf("POST", "/x", { b: [1, { d: 3, c: 2 }], a: 1 }),
    );
    expect(fingerprintOf("POST", "/x", { a: 1 })).not.toBe(fingerprintOf("POST", "/x", { a: 2 }));
    expect(deterministicUuid("alice\nk1")).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(deterministicUuid("alice\nk1")).not.toBe(deterministicUuid("bob\nk1"));
  });
});
