// Names that collide with routes, in real Chromium against a web process started as `npm start` starts it: an
// environment's page is /environments/<name>, so a name equal to a page of the portal there (`new`, the create
// form) would make that environment unreachable. Such words are reserved (the one name rule in
// @platform/infra/environment-name); every valid name, also one close to a route word, reaches its page, its
// link from the list and its event stream. No worker runs: the environments stay queued, which is all the
// pages need. Screenshots go to apps/portal/test-results/routes/.
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { createDbClient, type PrismaClient } from "@platform/db";
import { RESERVED_ENVIRONMENT_NAMES } from "@platform/infra/environment-name";
import type PgBoss from "pg-boss";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CommandContext, createEnvironment } from "../../src/features/environments/commands";
import { handleCreate } from "../../src/features/environments/form-handlers";
import { startQueue } from "../../src/server/queue";
import { makePrincipal } from "../../src/shared/access";
import { launchChromium } from "../helpers/chromium";
import { startTestDatabaseServer, type TestDatabaseServer } from "../helpers/database";
import { appDir, type PortalProcess, startPortal } from "../helpers/portal-process";

const shots = path.join(appDir, "test-results", "routes");
let pg: TestDatabaseServer;
let db: PrismaClient;
let sender: PgBoss;
let web: PortalProcess;
let browser: Browser;
let page: Page;
const cleanups: Array<() => Promise<unknown>> = [];
const ctx = (): CommandContext => ({ db, boss: sender, principal: makePrincipal("dev@localhost", "admin") });

/** Valid names that contain, start or end with a route word, or are one letter away from one. */
const CLOSE_TO_ROUTES = [
  "new-app",
  "newer",
  "renew",
  "api-gw",
  "edit-me",
  "audit-log",
  "ops-events",
  "signin-x",
];

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  pg = await startTestDatabaseServer();
  cleanups.push(() => pg.stop());
  const url = await pg.fresh();
  db = createDbClient(url, { poolSize: 4 });
  cleanups.push(() => db.$disconnect());
  sender = await startQueue(url, { role: "sender" });
  cleanups.push(() => sender.stop({ graceful: false, wait: true }));
  web = await startPortal({ DATABASE_URL: url, PORTAL_ROLE: "web", LIST_REFRESH_SECONDS: "30" });
  cleanups.push(() => web.stop());
  browser = await launchChromium();
  cleanups.push(() => browser.close());
  page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
}, 180_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
}, 120_000);

describe("names and routes", () => {
  it("refuses a route word as a name in the browser and on the server, saying why; nothing is created", async () => {
    await page.goto(`${web.url}/environments/new`);
    await page.locator("#name").fill("new");
    await page.getByTestId("create-submit").click();
    await expect
      .poll(() => page.locator("#name-error").textContent())
      .toBe("“new” is reserved for the portal's own pages (e.g. /environments/new). Choose another name.");
    await page.screenshot({ path: path.join(shots, "01-create-reserved-name.png"), fullPage: true });

    // The server's own check, as a request that skipped the browser's would meet it.
    for (const name of ["new", "api", "settings"]) {
      const form = new FormData();
      for (const [k, v] of Object.entries({
        name,
        target: "local",
        frontendReplicas: "1",
        redisReplicas: "1",
        ttlHours: "24",
        idempotencyKey: randomUUID(),
      }))
        form.set(k, v);
      const { state, accepted } = await handleCreate(
        {
          context: async () => ctx(),
          limits: {
            frontendReplicas: { min: 1, max: 10 },
            redisReplicas: { min: 1, max: 5 },
            awsRegions: [],
            maxTtlHours: 336,
            defaultTtlHours: 24,
            replicasPerEnvironment: 15,
          },
        },
        form,
      );
      expect(accepted).toBeUndefined();
      expect(state.fieldErrors?.name).toMatch(/is reserved for the portal's own pages/);
    }
    expect(await db.environment.count()).toBe(0);
  });

  it("every valid name close to a route word reaches its own page, from the list too, and its event stream", async () => {
    for (const name of CLOSE_TO_ROUTES) {
      const created = await createEnvironment(ctx(), {
        name,
        target: "local",
        frontendReplicas: 1,
        redisReplicas: 1,
        ttlHours: 24,
        idempotencyKey: randomUUID(),
      });
      expect(created, name).toMatchObject({ ok: true, environment: name });
    }
    for (const name of CLOSE_TO_ROUTES) {
      const response = await page.goto(`${web.url}/environments/${name}`);
      expect(response?.status(), name).toBe(200);
      expect(await page.getByTestId("env-name").textContent(), name).toBe(name);
      // Its live operation's event stream answers too.
      const env = await db.environment.findFirstOrThrow({ where: { name } });
      const controller = new AbortController();
      const stream = await fetch(
        `${web.url}/api/environments/${name}/operations/${env.lastOperationId}/events`,
        {
          signal: controller.signal,
        },
      );
      expect(stream.status, name).toBe(200);
      expect(stream.headers.get("content-type")).toMatch(/text\/event-stream/);
      controller.abort();
    }
    await page.goto(web.url);
    for (const name of CLOSE_TO_ROUTES) {
      await page.getByTestId(`env-row-${name}`).getByRole("link", { name, exact: true }).click();
      await page.waitForURL(new RegExp(`/environments/${name}$`));
      expect(await page.getByTestId("env-name").textContent()).toBe(name);
      await page.goBack();
    }
    await page.goto(`${web.url}/environments/new-app`);
    await page.screenshot({ path: path.join(shots, "02-detail-new-app.png"), fullPage: true });
  });

  it("under /environments/, a reserved word is the portal's page (the form) or an honest 404, never another environment's", async () => {
    const form = await page.goto(`${web.url}/environments/new`);
    expect(form?.status()).toBe(200);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toMatch(/New environment/);
    for (const word of RESERVED_ENVIRONMENT_NAMES.filter((w) => w !== "new" && w.length >= 3)) {
      const response = await page.goto(`${web.url}/environments/${word}`);
      expect(response?.status(), word).toBe(404);
      expect(await page.getByTestId("env-missing").textContent(), word).toContain(
        `No environment named “${word}”`,
      );
    }
  });
});
