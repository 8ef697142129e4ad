import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningApp } from "../src/app.js";
import { type RedisServer, startRedisServer } from "../src/dev/redis-server.js";
import { counts, results, startTestApp, vote } from "./helpers/app.js";

let redis: RedisServer;
let app: RunningApp;

beforeAll(async () => {
  redis = await startRedisServer();
  app = await startTestApp({ REDIS_PORT: String(redis.port), REPLICA_NAME: "api-test", ALLOW_RESET: "true" });
});
afterAll(async () => {
  await app?.close();
  await redis?.stop();
});
beforeEach(async () => {
  const res = await fetch(`${app.url}/api/votes`, { method: "DELETE" });
  expect(res.status).toBe(200);
});

describe("JSON API", () => {
  it("counts votes and reads them back", async () => {
    expect(await results(app.url)).toEqual({
      options: [
        { name: "Cats", count: 0 },
        { name: "Dogs", count: 0 },
      ],
      total: 0,
      servedBy: "api-test",
    });
    const first = await vote(app.url, "Cats");
    expect(first.status).toBe(201);
    expect(await first.json()).toEqual({ option: "Cats", count: 1 });
    await vote(app.url, "Cats");
    await vote(app.url, "Dogs");
    const r = await results(app.url);
    expect(r.options).toEqual([
      { name: "Cats", count: 2 },
      { name: "Dogs", count: 1 },
    ]);
    expect(r.total).toBe(3);
  });

  it("resets all counts", async () => {
    await vote(app.url, "Dogs");
    const res = await fetch(`${app.url}/api/votes`, { method: "DELETE" });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { total: number }).total).toBe(0);
    expect(await counts(app.url)).toEqual({ Cats: 0, Dogs: 0 });
  });

  const huge = JSON.stringify({ option: "x".repeat(100_000) });
  it.each([
    ["unknown option", "application/json", '{"option":"Birds"}', 400, "unknown_option"],
    ["option in the wrong case", "application/json", '{"option":"cats"}', 400, "unknown_option"],
    ["empty option", "application/json", '{"option":""}', 400, "invalid_body"],
    ["empty body", "application/json", "", 400, "empty_body"],
    ["no body at all", undefined, undefined, 400, "invalid_body"],
    ["malformed JSON", "application/json", '{"option":', 400, "malformed_json"],
    ["JSON that is not an object", "application/json", '"Cats"', 400, "invalid_body"],
    ["option not a string", "application/json", '{"option":1}', 400, "invalid_body"],
    ["extra fields", "application/json", '{"option":"Cats","times":1000}', 400, "invalid_body"],
    ["huge body", "application/json", huge, 400, "body_too_large"],
    ["text/plain", "text/plain", '{"option":"Cats"}', 415, "unsupported_media_type"],
    ["form-encoded", "application/x-www-form-urlencoded", "option=Cats", 415, "unsupported_media_type"],
  ])("rejects %s without counting anything", async (_name, type, body, status, code) => {
    const res = await fetch(`${app.url}/api/votes`, {
      method: "POST",
      headers: type ? { "content-type": type } : {},
      body,
    });
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const json = (await res.json()) as { error: string; message: string };
    expect(json.error).toBe(code);
    expect(json.message.length).toBeGreaterThan(0);
    expect(await counts(app.url)).toEqual({ Cats: 0, Dogs: 0 });
  });

  it("answers unknown routes with a JSON 404", async () => {
    const res = await fetch(`${app.url}/api/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toBe("not_found");
  });
});

describe("page and no-JavaScript forms", () => {
  it("shows title, buttons, tally and the replica name", async () => {
    await vote(app.url, "Dogs");
    const res = await fetch(app.url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("script-src 'nonce-");
    const html = await res.text();
    expect(html).toContain("<h1>Cats or Dogs?</h1>");
    expect(html).toMatch(/<button[^>]*value="Cats"[^>]*>Cats<\/button>/);
    expect(html).toMatch(/<button[^>]*value="Dogs"[^>]*>Dogs<\/button>/);
    expect(html).toContain('data-testid="count-Dogs">1<');
    expect(html).toContain('data-testid="count-Cats">0<');
    expect(html).toContain('data-testid="percent-Dogs">100%<');
    expect(html).toContain('data-testid="served-by">api-test<');
    expect(html).not.toMatch(/https?:\/\//); // no external fonts, scripts or CDNs
  });

  it("POST /vote counts and redirects back with 303", async () => {
    const res = await fetch(`${app.url}/vote`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "option=Cats",
      redirect: "manual",
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/?voted=Cats");
    expect(await counts(app.url)).toEqual({ Cats: 1, Dogs: 0 });
    const page = await (await fetch(`${app.url}/?voted=Cats`)).text();
    expect(page).toContain('data-testid="notice">Thanks! Your vote for Cats was counted.<');
  });

  it("POST /vote with an unknown option shows an error page and counts nothing", async () => {
    const res = await fetch(`${app.url}/vote`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "option=Birds",
      redirect: "manual",
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("not one of the options");
    expect(await counts(app.url)).toEqual({ Cats: 0, Dogs: 0 });
  });

  it("POST /reset clears the tally and redirects", async () => {
    await vote(app.url, "Cats");
    const res = await fetch(`${app.url}/reset`, { method: "POST", redirect: "manual" });
    expect(res.status).toBe(303);
    expect(await counts(app.url)).toEqual({ Cats: 0, Dogs: 0 });
  });

  const post = (path: string, headers: Record<string, string>, body = "option=Cats") =>
    fetch(`${app.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body,
      redirect: "manual",
    });

  it("refuses form posts from another site (Origin or Sec-Fetch-Site) and changes nothing", async () => {
    await vote(app.url, "Dogs");
    const host = new URL(app.url).host;
    for (const headers of <Record<string, string>[]>[
      { origin: "https://evil.example" },
      { origin: "null" },
      { origin: `http://${host}.evil.example` },
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
    ]) {
      for (const path of ["/vote", "/reset"]) {
        const res = await post(path, headers);
        expect(res.status, `${path} ${JSON.stringify(headers)}`).toBe(403);
        expect(await res.text()).toContain("sent from another site");
      }
    }
    expect(await counts(app.url)).toEqual({ Cats: 0, Dogs: 1 });
    // The same site's own page (Origin = this host, also as the load balancer forwards it) is accepted.
    expect((await post("/vote", { origin: app.url, "sec-fetch-site": "same-origin" })).status).toBe(303);
    expect(
      (await post("/vote", { origin: "http://vote.example", "x-forwarded-host": "vote.example" })).status,
    ).toBe(303);
    expect(await counts(app.url)).toEqual({ Cats: 2, Dogs: 1 });
  });

  it("ignores unknown options in the ?voted= notice", async () => {
    const page = await (await fetch(`${app.url}/?voted=<script>`)).text();
    expect(page).not.toContain("<script>alert");
    expect(page).not.toContain('data-testid="notice"');
  });
});

describe("reset is off unless ALLOW_RESET is set", () => {
  it("offers no reset form and refuses the form post and the API call", async () => {
    const plain = await startTestApp({ REDIS_PORT: String(redis.port), REDIS_KEY: "test:no-reset" });
    try {
      await vote(plain.url, "Cats");
      const html = await (await fetch(plain.url)).text();
      expect(html).not.toContain(`id="reset-form"`);
      expect(html).not.toContain("Reset votes");
      const form = await fetch(`${plain.url}/reset`, {
        method: "POST",
        headers: { origin: plain.url },
        redirect: "manual",
      });
      expect(form.status).toBe(403);
      expect(await form.text()).toContain("turned off for this environment");
      const api = await fetch(`${plain.url}/api/votes`, { method: "DELETE" });
      expect(api.status).toBe(403);
      expect(await api.json()).toMatchObject({ error: "reset_disabled" });
      expect(await counts(plain.url)).toEqual({ Cats: 1, Dogs: 0 });
    } finally {
      await plain.close();
    }
  });
});

describe("options with HTML characters", () => {
  it("are escaped on the page and counted by their exact name", async () => {
    const custom = await startTestApp({
      REDIS_PORT: String(redis.port),
      REDIS_KEY: "test:escaping",
      VOTE_OPTIONS: "<b>Tea</b>,Coffee & Cake",
      APP_TITLE: 'Tea "or" <coffee>?',
    });
    try {
      expect((await vote(custom.url, "<b>Tea</b>")).status).toBe(201);
      const html = await (await fetch(custom.url)).text();
      expect(html).toContain("<h1>Tea &quot;or&quot; &lt;coffee&gt;?</h1>");
      expect(html).toContain('data-testid="count-&lt;b&gt;Tea&lt;/b&gt;">1<');
      expect(html).toContain(">Coffee &amp; Cake</button>");
      expect(html).not.toContain("<b>Tea</b>");
    } finally {
      await custom.close();
    }
  });
});

describe("operations endpoints", () => {
  it("healthz and readyz answer 200 while Redis is up", async () => {
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${app.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: { primary: { ok: true } } });
  });

  it("exposes Prometheus metrics: votes by option and request durations", async () => {
    await vote(app.url, "Cats");
    await vote(app.url, "Cats");
    const res = await fetch(`${app.url}/metrics`);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    const cats = Number(/^votes_total\{option="Cats"\} (\d+)$/m.exec(text)?.[1]);
    expect(cats).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/^votes_total\{option="Dogs"\} \d+$/m);
    expect(text).toMatch(
      /^http_request_duration_seconds_bucket\{.*route="\/api\/votes",status_code="201"\}/m,
    );
    expect(text).toContain('vote_store_up{role="primary"} 1');
  });

  it("returns a request id, keeping a well-formed caller id", async () => {
    const generated = await fetch(`${app.url}/healthz`);
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await fetch(`${app.url}/healthz`, { headers: { "x-request-id": "lb-abc.123" } });
    expect(kept.headers.get("x-request-id")).toBe("lb-abc.123");
    const replaced = await fetch(`${app.url}/healthz`, { headers: { "x-request-id": "bad id\twith junk" } });
    expect(replaced.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
