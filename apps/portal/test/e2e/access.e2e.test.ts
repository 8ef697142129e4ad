// Sign-in, roles, quotas, rate limits and the audit log, end to end: a real OpenID Provider (oidc-provider, in
// this process) with people in different groups; the portal started as `npm start` starts a web process
// (AUTH_MODE=oidc, its own restricted database role) against a real PostgreSQL, with a worker process whose
// operations are scripted (quick successes); Debian Chromium drives it. Also: the proxy-jwt mode (valid, forged,
// expired, wrong-audience and bare-header requests) and Next's Origin check on a replayed server action.
// Screenshots: apps/portal/test-results/access/.
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import { createDbClient, type PrismaClient } from "@platform/db";
import { freePort } from "@platform/db/embedded-postgres";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureLoginRole, withCredentials } from "../../src/server/db-roles";
import { launchChromium } from "../helpers/chromium";
import { startTestDatabaseServer, type TestDatabaseServer, waitFor } from "../helpers/database";
import { startIdentityProvider, type TestIdentityProvider } from "../helpers/identity-provider";
import { appDir, type PortalProcess, startPortal } from "../helpers/portal-process";
import {
  type ScriptedWorkerProcess,
  startScriptedWorker,
  writeScript,
} from "../helpers/scripted-worker-process";

const shots = path.join(appDir, "test-results", "access");
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const USERS = {
  alice: { email: "alice@example.com", name: "Alice Member", groups: ["portal-members", "team-a"] },
  bob: { email: "bob@example.com", name: "Bob Member", groups: ["portal-members", "team-b"] },
  vic: { email: "vic@example.com", name: "Vic Viewer", groups: ["portal-viewers", "team-a"] },
  root: { email: "root@example.com", name: "Root Admin", groups: ["portal-admins"] },
  rita: { email: "rita@example.com", name: "Rita Member", groups: ["portal-members"] },
};

let pg: TestDatabaseServer;
let db: PrismaClient;
let idp: TestIdentityProvider;
let portal: PortalProcess;
let worker: ScriptedWorkerProcess;
let browser: Browser;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  pg = await startTestDatabaseServer();
  cleanups.push(() => pg.stop());
  const url = await pg.fresh();
  db = createDbClient(url, { poolSize: 4 });
  cleanups.push(() => db.$disconnect());
  // An operator's PostgreSQL: the owner (DATABASE_URL) and a web role made for the portal.
  const webPassword = randomUUID();
  await ensureLoginRole(url, "portal_web", webPassword);
  const port = await freePort();
  const portalUrl = `http://127.0.0.1:${port}`;
  idp = await startIdentityProvider(USERS, `${portalUrl}/auth/callback`);
  cleanups.push(() => idp.stop());
  const scriptFile = path.join(pg.dir, "script.json");
  writeScript(scriptFile, { durationMs: 300 });
  worker = await startScriptedWorker({ DATABASE_URL: url, WORKER_ID: "worker-a", SCRIPT_FILE: scriptFile });
  cleanups.push(() => worker.stop());
  portal = await startPortal({
    PORT: String(port),
    DATABASE_URL: url,
    WEB_DATABASE_URL: withCredentials(url, "portal_web", webPassword),
    PORTAL_ROLE: "web",
    AUTH_MODE: "oidc",
    PUBLIC_URL: portalUrl,
    OIDC_ISSUER_URL: idp.issuer,
    OIDC_ALLOW_INSECURE_ISSUER: "1",
    OIDC_CLIENT_ID: idp.clientId,
    OIDC_CLIENT_SECRET: idp.clientSecret,
    OIDC_SCOPES: "openid email profile groups",
    QUOTA_ENVIRONMENTS_PER_PERSON: "1",
    RATE_LIMIT_ACTIONS_PER_MINUTE: "3",
    LIST_REFRESH_SECONDS: "2",
  });
  cleanups.push(() => portal.stop());
  browser = await launchChromium();
  cleanups.push(() => browser.close());
}, 240_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
}, 120_000);

async function shot(page: Page, name: string) {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  await page.setViewportSize({ width: 800, height: 900 });
  try {
    await page.screenshot({ path: path.join(shots, `${name}-800.png`), fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${name}: page wider than an 800 px window`).toBeLessThanOrEqual(0);
  } finally {
    await page.setViewportSize({ width: 1366, height: 900 });
  }
}

async function expectAccessible(page: Page) {
  await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run: (
            d: Document,
            o: unknown,
          ) => Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }>;
        };
      }
    ).axe;
    const result = await axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    });
    return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  });
  expect(violations).toEqual([]);
}

/** A fresh browser session signed in through the identity provider's login form. */
async function signIn(who: keyof typeof USERS, returnTo = "/"): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 1366, height: 900 },
    reducedMotion: "reduce",
  });
  cleanups.push(() => context.close());
  const page = await context.newPage();
  await page.goto(`${portal.url}${returnTo}`);
  await page.waitForURL(/\/signin\?next=/);
  await page.getByRole("link", { name: "Sign in with your company account" }).click();
  await page.waitForURL((u) => u.origin === idp.issuer);
  await page.locator('input[name="login"]').fill(who);
  await page.locator('input[name="password"]').fill("any-password");
  await page.locator('button[type="submit"]').first().click();
  await page.waitForURL((u) => u.origin === new URL(portal.url).origin && !u.pathname.startsWith("/signin"));
  await expect.poll(() => page.getByTestId("current-user").textContent()).toBe(USERS[who].name);
  return page;
}

async function createFromForm(page: Page, name: string, fill: (p: Page) => Promise<void> = async () => {}) {
  await page.goto(`${portal.url}/environments/new`);
  await page.locator("#name").fill(name);
  await fill(page);
  await page.getByTestId("create-submit").click();
}

const ready = (name: string) =>
  waitFor(
    `${name} to be ready`,
    async () => (await db.environment.findFirst({ where: { name, deletedAt: null } }))?.status === "ready",
  );

describe("sign-in with OpenID Connect, roles and the audit log", () => {
  it("pages redirect to sign-in and routes answer 401 without a session", async () => {
    const page = await fetch(`${portal.url}/environments/new`, { redirect: "manual" });
    expect([303, 307]).toContain(page.status);
    expect(page.headers.get("location")).toMatch(/\/signin\?next=%2Fenvironments%2Fnew/);
    const events = await fetch(`${portal.url}/api/environments/x/operations/${randomUUID()}/events`);
    expect(events.status).toBe(401);
    expect((await fetch(`${portal.url}/audit/export`)).status).toBe(401);
    // A header that dev mode would trust means nothing here.
    const forged = await fetch(`${portal.url}/`, {
      headers: { "x-forwarded-email": "root@example.com" },
      redirect: "manual",
    });
    expect(forged.headers.get("location")).toMatch(/\/signin/);
  });

  it("a member signs in and creates an environment for their team (a time-to-live is required)", async () => {
    const alice = await signIn("alice", "/environments/new");
    expect(await alice.getByTestId("current-role").textContent()).toBe("member");
    await shot(alice, "01-create-member");
    await expectAccessible(alice);
    expect(await alice.locator("#team").inputValue()).toBe("team-a");
    await createFromForm(alice, "alpha-shop", async (p) => {
      await p.locator("#ttlHours").fill("");
    });
    await expect
      .poll(() => alice.getByTestId("form-message").textContent())
      .toMatch(/Members must set a time to live/);
    expect(await alice.locator("#ttlHours-error").textContent()).toMatch(/time to live/);
    expect(await db.environment.count({ where: { name: "alpha-shop" } })).toBe(0);
    await alice.locator("#ttlHours").fill("8");
    await alice.getByTestId("create-submit").click();
    await alice.waitForURL(/\/environments\/alpha-shop$/);
    await ready("alpha-shop");
    const env = await db.environment.findFirstOrThrow({ where: { name: "alpha-shop" } });
    expect(env).toMatchObject({ owner: "alice@example.com", team: "team-a" });
  });

  it("another team's member sees the environment without its buttons, and posting the action anyway is refused", async () => {
    const bob = await signIn("bob");
    await createFromForm(bob, "bravo-app");
    await bob.waitForURL(/\/environments\/bravo-app$/);
    await ready("bravo-app");
    // Quota: one environment per person.
    await createFromForm(bob, "bravo-two");
    await expect
      .poll(() => bob.getByTestId("form-message").textContent())
      .toMatch(/Quota: you have 1 environments, at most 1 per person/);
    expect(await db.environment.count({ where: { name: "bravo-two" } })).toBe(0);

    await bob.goto(`${portal.url}/environments/alpha-shop`);
    await expect
      .poll(() => bob.getByTestId("read-only-reason").textContent())
      .toMatch(/Only its owner \(alice@example.com\), members of team team-a and admins/);
    expect(await bob.getByTestId("destroy-submit").count()).toBe(0);
    expect(await bob.getByTestId("scale-submit").count()).toBe(0);
    await shot(bob, "02-detail-other-team");
    await expectAccessible(bob);

    // Posting the action anyway: bob's own destroy form, its server-action request rewritten on the wire to
    // name alice's environment (a page edit of the hidden field would be undone by React's next render).
    await bob.goto(`${portal.url}/environments/bravo-app`);
    await bob.route(`${portal.url}/environments/bravo-app`, async (route) => {
      const body = route.request().postData();
      if (route.request().method() !== "POST" || !body) return await route.continue();
      await route.continue({ postData: body.replaceAll("bravo-app", "alpha-shop") });
    });
    await bob.locator("#confirmation").fill("bravo-app");
    await bob.getByTestId("destroy-submit").click();
    await expect
      .poll(() => bob.getByTestId("destroy-message").textContent())
      .toBe(
        "Only its owner (alice@example.com), members of team team-a and admins can destroy “alpha-shop”.",
      );
    await shot(bob, "03-refused");
    const alpha = await db.environment.findFirstOrThrow({
      where: { name: "alpha-shop" },
      include: { operations: true },
    });
    expect(alpha.status).toBe("ready");
    expect(alpha.operations.map((o) => o.kind)).toEqual(["create"]);
  });

  it("a viewer cannot create", async () => {
    const vic = await signIn("vic");
    expect(await vic.getByRole("link", { name: "New environment" }).count()).toBe(0);
    await vic.goto(`${portal.url}/environments/new`);
    await expect
      .poll(() => vic.getByTestId("create-denied").textContent())
      .toMatch(/read-only access \(viewer\)/);
    expect(await vic.locator("#name").count()).toBe(0);
    await shot(vic, "04-viewer-create");
    await expectAccessible(vic);
  });

  it("rate limits: a member's fourth action in a minute is refused with the wait, and nothing is recorded", async () => {
    const rita = await signIn("rita");
    await createFromForm(rita, "rita-one");
    await rita.waitForURL(/\/environments\/rita-one$/);
    await createFromForm(rita, "rita-two"); // over the person quota: refused (counts)
    await expect.poll(() => rita.getByTestId("form-message").textContent()).toMatch(/Quota/);
    await rita.getByTestId("create-submit").click(); // counts
    await expect.poll(() => rita.getByTestId("form-message").textContent()).toMatch(/Quota/);
    await rita.getByTestId("create-submit").click();
    await expect
      .poll(() => rita.getByTestId("form-message").textContent())
      .toMatch(
        /Too many requests: at most 3 actions a minute per person\. Nothing was changed; try again in \d+ s\./,
      );
    await shot(rita, "05-rate-limited");
    expect(await db.environment.count({ where: { name: { startsWith: "rita-" } } })).toBe(1);
  });

  it("an admin destroys the other team's environment; the audit log lists every event; sign out", async () => {
    const root = await signIn("root", "/environments/alpha-shop");
    await root.locator("#confirmation").fill("alpha-shop");
    await root.getByTestId("destroy-submit").click();
    await expect.poll(() => root.getByTestId("destroy-message").textContent()).toBe("Destroy requested.");
    await waitFor(
      "alpha-shop destroyed",
      async () => (await db.environment.findFirst({ where: { name: "alpha-shop" } }))?.status === "destroyed",
    );

    await root.goto(`${portal.url}/audit`);
    const rows = async () =>
      root
        .locator("[data-testid=audit-row]")
        .evaluateAll((trs) =>
          trs.map(
            (tr) => `${tr.getAttribute("data-action")}:${tr.getAttribute("data-outcome")}:${tr.textContent}`,
          ),
        );
    const all = await rows();
    const has = (re: RegExp) =>
      expect(
        all.some((r) => re.test(r)),
        String(re),
      ).toBe(true);
    has(/^sign-in:accepted:.*alice@example.com/);
    has(/^create:refused:.*alice@example.com.*Members must set a time to live/);
    has(/^create:accepted:.*alice@example.com.*alpha-shop/);
    has(/^create:refused:.*bob@example.com.*Quota: you have 1/);
    has(/^destroy:refused:.*bob@example.com.*Only its owner.*alpha-shop/);
    has(/^create:refused:.*rita@example.com.*Too many requests/);
    has(/^destroy:accepted:.*root@example.com.*alpha-shop/);
    // Addresses are recorded.
    expect(all.find((r) => r.startsWith("destroy:accepted"))).toMatch(/127\.0\.0\.1/);
    await shot(root, "06-audit");
    await expectAccessible(root);

    await root.locator("#actor").fill("bob@");
    await root.locator("#outcome").selectOption("refused");
    await root.getByRole("button", { name: "Apply filters" }).click();
    await root.waitForURL(/outcome=refused/);
    const bobs = await rows();
    expect(bobs.length).toBe(2);
    expect(bobs.every((r) => r.includes("bob@example.com"))).toBe(true);
    const csv = await root.evaluate(
      async (href) => (await fetch(href)).text(),
      (await root.getByRole("link", { name: "Export CSV" }).getAttribute("href")) as string,
    );
    const lines = csv.trim().split("\r\n");
    expect(lines[0]).toBe(
      "id,at,actor,actor_name,actor_role,action,outcome,reason,environment,environment_id,operation_id,address,details",
    );
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/bob@example.com/);

    // A member may not read the audit log.
    const alice = await signIn("alice");
    expect(await alice.getByRole("link", { name: "Audit log" }).count()).toBe(0);
    expect(await alice.evaluate(async () => (await fetch("/audit/export")).status)).toBe(403);

    await root.goto(portal.url);
    await root.getByRole("button", { name: "Sign out" }).click();
    await root.waitForURL(/\/signin\?signedOut=1/);
    await expect.poll(() => root.getByRole("status").textContent()).toMatch(/signed out/);
    await shot(root, "07-signed-out");
    await expectAccessible(root);
    await root.goto(`${portal.url}/audit`);
    await root.waitForURL(/\/signin\?next=%2Faudit/);
    expect(await db.auditEvent.count({ where: { action: "sign-out", actor: "root@example.com" } })).toBe(1);
  });

  it("Next refuses a server action posted from another origin; the same post from the portal's origin works", async () => {
    const alice = await signIn("alice", "/environments/new");
    let captured: { url: string; headers: Record<string, string>; body: string } | undefined;
    await alice.route("**/environments/new", async (route, request) => {
      if (request.method() === "POST") {
        captured = {
          url: request.url(),
          headers: await request.allHeaders(),
          body: request.postData() ?? "",
        };
        await route.abort();
      } else await route.continue();
    });
    await alice.locator("#name").fill("alpha-three");
    await alice.locator("#ttlHours").fill("4");
    await alice.getByTestId("create-submit").click();
    await waitFor("the action post", async () => captured);
    if (!captured) throw new Error("no action post captured");
    expect(captured.headers["next-action"]).toBeTruthy();
    const keep = ["next-action", "next-router-state-tree", "content-type", "cookie", "accept"];
    const headers = Object.fromEntries(Object.entries(captured.headers).filter(([k]) => keep.includes(k)));
    const replay = (origin: string) =>
      fetch(captured?.url as string, {
        method: "POST",
        headers: { ...headers, origin },
        signal: AbortSignal.timeout(15_000),
        body: String(captured?.body).replace(
          /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/,
          randomUUID(),
        ),
      });
    const before = await db.auditEvent.count();
    const crossSite = await replay("https://evil.example");
    expect(crossSite.ok).toBe(false);
    expect(await db.auditEvent.count()).toBe(before); // the command never ran
    const sameSite = await replay(portal.url);
    expect(sameSite.status).toBe(200);
    expect(await db.auditEvent.count()).toBe(before + 1); // it ran
    expect(await db.environment.count({ where: { name: "alpha-three" } })).toBe(1);
  });
});

describe("proxy-jwt: the proxy's signed assertion", () => {
  it("a valid assertion passes; forged, expired, wrong-audience ones and a bare X-Forwarded-Email get 401", async () => {
    const { publicKey, privateKey } = await generateKeyPair("ES256");
    const forger = await generateKeyPair("ES256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
    const jwks: Server = createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    const jwksPort = await freePort();
    await new Promise<void>((r) => jwks.listen(jwksPort, "127.0.0.1", r));
    const proxied = await startPortal({
      DATABASE_URL: await pg.fresh(),
      PORTAL_ROLE: "web",
      AUTH_MODE: "proxy-jwt",
      WEB_DATABASE_URL: "",
      PROXY_JWT_HEADER: "X-Goog-IAP-JWT-Assertion",
      PROXY_JWT_JWKS_URL: `http://127.0.0.1:${jwksPort}/jwks`,
      PROXY_JWT_ISSUER: "https://proxy.example.com",
      PROXY_JWT_AUDIENCE: "portal",
    }).catch((e) => e as Error);
    // Without a web role of its own, a company mode refuses to start.
    expect(proxied).toBeInstanceOf(Error);
    expect(String(proxied)).toMatch(/WEB_DATABASE_URL is not set: with AUTH_MODE=proxy-jwt/);

    const url = await pg.fresh();
    const webPassword = randomUUID();
    await ensureLoginRole(url, "portal_web_jwt", webPassword);
    const portalJwt = await startPortal({
      DATABASE_URL: url,
      WEB_DATABASE_URL: withCredentials(url, "portal_web_jwt", webPassword),
      PORTAL_ROLE: "web",
      AUTH_MODE: "proxy-jwt",
      PROXY_JWT_HEADER: "X-Goog-IAP-JWT-Assertion",
      PROXY_JWT_JWKS_URL: `http://127.0.0.1:${jwksPort}/jwks`,
      PROXY_JWT_ISSUER: "https://proxy.example.com",
      PROXY_JWT_AUDIENCE: "portal",
    });
    try {
      const sign = (over: { key?: CryptoKey; aud?: string; exp?: number; iss?: string } = {}) =>
        new SignJWT({ email: "ann@example.com", name: "Ann", groups: ["portal-members", "team-a"] })
          .setProtectedHeader({ alg: "ES256", kid: "k1" })
          .setSubject("ann-1")
          .setIssuer(over.iss ?? "https://proxy.example.com")
          .setAudience(over.aud ?? "portal")
          .setIssuedAt()
          .setExpirationTime(over.exp ?? Math.floor(Date.now() / 1000) + 300)
          .sign(over.key ?? privateKey);
      const events = `${portalJwt.url}/api/environments/x/operations/${randomUUID()}/events`;
      const get = (headers: Record<string, string>) => fetch(events, { headers });
      // Valid: authenticated (the operation does not exist: 404, not 401).
      expect((await get({ "x-goog-iap-jwt-assertion": await sign() })).status).toBe(404);
      const page = await fetch(`${portalJwt.url}/`, {
        headers: { "x-goog-iap-jwt-assertion": await sign() },
      });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("Ann");
      for (const [what, headers] of [
        ["forged", { "x-goog-iap-jwt-assertion": await sign({ key: forger.privateKey }) }],
        ["expired", { "x-goog-iap-jwt-assertion": await sign({ exp: Math.floor(Date.now() / 1000) - 600 }) }],
        ["wrong audience", { "x-goog-iap-jwt-assertion": await sign({ aud: "another-app" }) }],
        ["wrong issuer", { "x-goog-iap-jwt-assertion": await sign({ iss: "https://evil.example" }) }],
        ["bare X-Forwarded-Email", { "x-forwarded-email": "ann@example.com" }],
        ["nothing", {}],
      ] as const) {
        const res = await get(headers);
        expect(res.status, what).toBe(401);
        const pageRes = await fetch(`${portalJwt.url}/`, { headers, redirect: "manual" });
        expect(pageRes.headers.get("location"), what).toMatch(/\/signin/);
      }
      const body = (await (
        await get({ "x-goog-iap-jwt-assertion": await sign({ exp: Math.floor(Date.now() / 1000) - 600 }) })
      ).json()) as { message: string };
      expect(body.message).toMatch(/expired/);
    } finally {
      await portalJwt.stop();
      await new Promise((r) => jwks.close(r));
    }
  });
});
