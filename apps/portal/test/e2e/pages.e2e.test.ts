// Every page in its main states, in real Chromium (1366 px and an 800 px laptop window), against TWO web
// processes (PORTAL_ROLE=web, as `npm start` runs them) and TWO worker processes sharing one real PostgreSQL.
// The workers' operations are scripted (held mid-run, failing) to reach each state on demand; the real
// operations run in portal.e2e.test.ts. Also: filters, identity, self-refresh, an impossible action in the
// browser, accessibility (axe-core: labels, contrast, ARIA), and the event stream ending when the browser
// goes away or the operation ends. Screenshots go to apps/portal/test-results/pages/.

import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { createDbClient, type PrismaClient } from "@platform/db";
import type PgBoss from "pg-boss";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CommandContext,
  cancelOperation,
  createEnvironment,
  destroyEnvironment,
  removeEnvironment,
  scaleEnvironment,
} from "../../src/features/environments/commands";
import { startQueue } from "../../src/server/queue";
import { makePrincipal } from "../../src/shared/access";
import { launchChromium } from "../helpers/chromium";
import { startTestDatabaseServer, type TestDatabaseServer, waitFor } from "../helpers/database";
import { appDir, type PortalProcess, startPortal } from "../helpers/portal-process";
import {
  type ScriptedWorkerProcess,
  type ScriptJson,
  startScriptedWorker,
  writeScript,
} from "../helpers/scripted-worker-process";

const shots = path.join(appDir, "test-results", "pages");
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const ALICE = "alice@example.com";

let pg: TestDatabaseServer;
let databaseUrl: string;
let db: PrismaClient;
let sender: PgBoss;
let webA: PortalProcess;
let webB: PortalProcess;
let browser: Browser;
const workers: ScriptedWorkerProcess[] = [];
let scriptFile: string;
const script = (s: ScriptJson) => writeScript(scriptFile, s);
const cleanups: Array<() => Promise<unknown>> = [];

const as = (user: string): CommandContext => ({ db, boss: sender, principal: makePrincipal(user, "admin") });
const key = () => randomUUID();

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  pg = await startTestDatabaseServer();
  cleanups.push(() => pg.stop());
  databaseUrl = await pg.fresh();
  const url = databaseUrl;
  db = createDbClient(url, { poolSize: 4 });
  cleanups.push(() => db.$disconnect());
  sender = await startQueue(url, { role: "sender" });
  cleanups.push(() => sender.stop({ graceful: false, wait: true }));
  const web = { DATABASE_URL: url, PORTAL_ROLE: "web", LIST_REFRESH_SECONDS: "1" };
  // The second web process is configured differently: AWS offered (two regions), at most 6 frontends.
  const aws = { AWS_REGIONS: "eu-west-1,us-east-1", AWS_PROFILE: "portal-test", FRONTEND_REPLICAS_MAX: "6" };
  [webA, webB] = await Promise.all([startPortal(web), startPortal({ ...web, ...aws })]);
  cleanups.push(
    () => webA.stop(),
    () => webB.stop(),
  );
  browser = await launchChromium();
  cleanups.push(() => browser.close());
}, 180_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  for (const c of cleanups.reverse()) await c().catch(() => {});
}, 120_000);

/** Two worker processes, one operation at a time each. */
async function startWorkers(url: string) {
  scriptFile = path.join(pg.dir, "script.json");
  const started = await Promise.all(
    ["worker-a", "worker-b"].map((id) =>
      startScriptedWorker({ DATABASE_URL: url, WORKER_ID: id, SCRIPT_FILE: scriptFile }),
    ),
  );
  workers.push(...started);
}

async function newPage(
  headers: Record<string, string> = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: { width: 1366, height: 900 },
    reducedMotion: "reduce",
    extraHTTPHeaders: headers,
  });
  const page = await context.newPage();
  cleanups.push(() => context.close());
  return { context, page };
}

/** Screenshots at 1366 px and 800 px; at 800 px nothing may stick out sideways. */
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

/** axe-core's WCAG 2 A/AA rules (labels, names, contrast, ARIA) must find nothing. */
async function expectAccessible(page: Page) {
  await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const result = await (
      window as unknown as {
        axe: {
          run: (
            ctx: Document,
            opts: unknown,
          ) => Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }>;
        };
      }
    ).axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
    return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  });
  expect(violations).toEqual([]);
}

const badge = (page: Page, name: string) =>
  page.getByTestId(`env-row-${name}`).getByTestId("status-badge").first().getAttribute("data-status");
const headerStatus = (page: Page) =>
  page.locator("h1[data-testid=env-name] + [data-testid=status-badge]").getAttribute("data-status");
const envRows = async (page: Page) =>
  (
    await page
      .locator("[data-testid^=env-row-]")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-testid")))
  )
    .map((id) => id?.replace("env-row-", ""))
    .sort();

async function finished(name: string) {
  const read = () =>
    db.environment.findFirstOrThrow({ where: { name, deletedAt: null }, include: { lastOperation: true } });
  return await waitFor(`${name}'s operation to finish`, async () => {
    const s = (await read()).lastOperation?.status;
    // Prisma reads the relation in a second query: read again so the environment row is as fresh as the
    // operation (the worker records both in one transaction).
    return s && s !== "queued" && s !== "running" ? await read() : null;
  });
}
const running = (name: string) =>
  waitFor(`${name}'s operation to run`, async () => {
    const env = await db.environment.findFirstOrThrow({
      where: { name, deletedAt: null },
      include: { lastOperation: true },
    });
    return env.lastOperation?.status === "running" && env.lastOperation.progressDone === 3 ? env : null;
  });

const eventStreams = async (portal: PortalProcess) =>
  ((await (await fetch(`${portal.url}/api/health`)).json()) as { eventStreams: number }).eventStreams;

describe("every page in its main states", () => {
  it("the empty list, and the create form's field-level messages", async () => {
    const { page } = await newPage();
    await page.goto(webA.url);
    await expect.poll(() => page.getByText("No environments match.").count()).toBe(1);
    await shot(page, "01-list-empty");
    await expectAccessible(page);

    await page.goto(`${webA.url}/environments/new`);
    await page.locator("#name").fill("Bad_Name");
    await page.locator("#ttlHours").fill("9999");
    await page.getByTestId("create-submit").click();
    await expect.poll(() => page.locator("#name-error").textContent()).toMatch(/lower-case/);
    expect(await page.locator("#ttlHours-error").textContent()).toMatch(/at most 336 hours/);
    // Keyboard users land on the first wrong field; the messages are tied to their fields.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("name");
    expect(await page.locator("#name").getAttribute("aria-describedby")).toContain("name-error");
    await shot(page, "02-create-errors");
    await expectAccessible(page);
    expect(await db.environment.count()).toBe(0);
  });

  it("the form offers AWS with a region and slider bounds from configuration; a double click creates one environment", async () => {
    const { page } = await newPage();
    await page.goto(`${webB.url}/environments/new`);
    expect(await page.locator("#frontendReplicas").getAttribute("max")).toBe("6");
    expect(await page.locator("#redisReplicas").getAttribute("max")).toBe("5");
    expect(await page.locator("#region").count()).toBe(0);
    await page.getByLabel(/AWS Fargate/).check();
    expect(await page.locator("#region option").allTextContents()).toEqual(["eu-west-1", "us-east-1"]);
    await page.locator("#region").selectOption("us-east-1");
    await page.locator("#name").fill("web-aws");
    await shot(page, "02a-create-aws");
    await expectAccessible(page);
    await page.getByTestId("create-submit").dblclick();
    await page.waitForURL(/\/environments\/web-aws$/);
    const created = await db.environment.findMany({
      where: { name: "web-aws" },
      include: { operations: true },
    });
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ target: "aws", region: "us-east-1" });
    expect(created[0]?.operations).toHaveLength(1);
    // Not for the workers of this test (their operations are scripted): cancel it while it is queued.
    expect((await cancelOperation(as("dev@localhost"), { name: "web-aws", idempotencyKey: key() })).ok).toBe(
      true,
    );
    await removeEnvironment(as("dev@localhost"), { name: "web-aws", idempotencyKey: key() });
  });

  it("a create waits queued while no worker runs; an impossible destroy gets a message, not an error page", async () => {
    const { page } = await newPage();
    await page.goto(`${webA.url}/environments/new`);
    await page.locator("#name").fill("web-queued");
    await page.getByTestId("create-submit").click();
    await page.waitForURL(/\/environments\/web-queued$/);
    expect(await headerStatus(page)).toBe("queued");
    await expect.poll(() => page.getByTestId("live-progress").textContent()).toBe("waiting for a worker…");
    await shot(page, "03-detail-queued");
    await expectAccessible(page);

    await page.locator("#confirmation").fill("web-queued");
    await page.getByTestId("destroy-submit").click();
    await expect
      .poll(() => page.getByTestId("destroy-message").textContent())
      .toBe("A create operation is queued. Cancel it first, then destroy.");
    expect(await page.getByTestId("env-name").textContent()).toBe("web-queued");
    await shot(page, "04-detail-refused");
    expect(await db.operation.count({ where: { kind: "destroy" } })).toBe(0);
  });

  it("several web and worker processes on one database: every status in the list, filters, identity, self-refresh", async () => {
    scriptFile = path.join(pg.dir, "script.json");
    script({ durationMs: 200, logLines: 12, failFor: ["web-failed"] });
    await startWorkers(databaseUrl);
    expect((await finished("web-queued")).status).toBe("ready");
    for (const [name, user] of [
      ["web-ready", ALICE],
      ["web-failed", "dev@localhost"],
      ["web-gone", ALICE],
      ["web-updating", "bob@example.com"],
    ] as const) {
      const r = await createEnvironment(as(user), {
        name,
        target: "local",
        frontendReplicas: 2,
        redisReplicas: 3,
        idempotencyKey: key(),
      });
      expect(r.ok).toBe(true);
    }
    for (const name of ["web-ready", "web-failed", "web-gone", "web-updating"]) await finished(name);
    await destroyEnvironment(as(ALICE), {
      name: "web-gone",
      confirmation: "web-gone",
      idempotencyKey: key(),
    });
    expect((await finished("web-gone")).status).toBe("destroyed");

    // Both workers hold an operation mid-run, so the next request waits queued.
    script({
      durationMs: 200,
      logLines: 12,
      failFor: ["web-failed"],
      holdFor: ["web-running", "web-updating"],
    });
    await createEnvironment(as(ALICE), {
      name: "web-running",
      target: "local",
      frontendReplicas: 3,
      redisReplicas: 2,
      idempotencyKey: key(),
    });
    await scaleEnvironment(as("bob@example.com"), {
      name: "web-updating",
      frontendReplicas: 4,
      redisReplicas: 3,
      idempotencyKey: key(),
    });
    await running("web-running");
    await running("web-updating");
    await createEnvironment(as(ALICE), {
      name: "web-waiting",
      target: "local",
      frontendReplicas: 1,
      redisReplicas: 1,
      idempotencyKey: key(),
    });
    const workerIds = await db.operation.findMany({
      where: { workerId: { not: null } },
      distinct: ["workerId"],
    });
    expect(workerIds.map((o) => o.workerId).sort()).toEqual(["worker-a", "worker-b"]);

    const { page } = await newPage({ "x-forwarded-email": ALICE });
    await page.goto(`${webA.url}/?status=all`);
    const expected: Record<string, string> = {
      "web-waiting": "queued",
      "web-running": "provisioning",
      "web-updating": "updating",
      "web-queued": "ready",
      "web-ready": "ready",
      "web-failed": "failed",
      "web-gone": "destroyed",
    };
    for (const [name, status] of Object.entries(expected))
      await expect.poll(() => badge(page, name)).toBe(status);
    expect(await page.getByTestId("current-user").textContent()).toBe(ALICE);
    await shot(page, "05-list-statuses");
    await expectAccessible(page);

    // The other web process shows the same.
    const other = (await newPage()).page;
    await other.goto(`${webB.url}/?status=all`);
    expect(await envRows(other)).toEqual(Object.keys(expected).sort());

    // Filters, with the keyboard: status "Failed", then "All" and only mine.
    await page.goto(webA.url);
    expect(await envRows(page)).not.toContain("web-gone");
    await page.locator("#status").selectOption("failed");
    await page.getByRole("button", { name: "Apply" }).press("Enter");
    await page.waitForURL(/status=failed/);
    expect(await envRows(page)).toEqual(["web-failed"]);
    await page.locator("#status").selectOption("all");
    await page.getByLabel("Only mine").check();
    await page.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/mine=1/);
    expect(await envRows(page)).toEqual(["web-gone", "web-ready", "web-running", "web-waiting"]);
    await shot(page, "05a-list-mine");

    // The list refreshes itself: a new environment appears without a reload.
    await createEnvironment(as(ALICE), {
      name: "web-late",
      target: "local",
      frontendReplicas: 1,
      redisReplicas: 1,
      idempotencyKey: key(),
    });
    await expect.poll(() => page.getByTestId("env-row-web-late").count(), { timeout: 10_000 }).toBe(1);
  });

  it("detail pages: running (live progress and log), ready, failed, destroyed, unknown", async () => {
    const { page, context } = await newPage();
    await page.goto(`${webA.url}/environments/web-running`);
    expect(await headerStatus(page)).toBe("provisioning");
    await expect.poll(() => page.getByTestId("live-progress").textContent()).toBe("3 of 4 steps (75%)");
    expect(await page.getByTestId("live-progress").getAttribute("aria-live")).toBe("polite");
    expect(await page.getByRole("progressbar").getAttribute("aria-valuenow")).toBe("3");
    await expect.poll(() => page.getByTestId("live-log").textContent()).toMatch(/line 11/);
    await expect.poll(() => page.getByTestId("cancel").count()).toBe(1);
    await shot(page, "06-detail-running");
    await expectAccessible(page);
    await expect.poll(() => eventStreams(webA)).toBe(1);
    await context.close();
    // The browser went away: its stream ends.
    await expect.poll(() => eventStreams(webA), { timeout: 5000 }).toBe(0);

    const second = (await newPage()).page;
    await second.goto(`${webA.url}/environments/web-ready`);
    // The topology is streamed (a fallback first, then the live-checked one): until React swaps them, both are
    // in the document, the streamed one hidden. The assertions read what a person sees.
    expect(await headerStatus(second)).toBe("ready");
    expect(await second.getByTestId("frontends-state").textContent()).toBe("2 / 2");
    expect(
      await second.getByTestId("topology-frontends").filter({ visible: true }).getAttribute("data-count"),
    ).toBe("2");
    expect(
      await second.getByTestId("topology-readers").filter({ visible: true }).getAttribute("data-count"),
    ).toBe("2");
    // Its (scripted) frontend URL answers nothing: the live check says so instead of a green picture.
    await expect
      .poll(() => second.getByTestId("topology-health").filter({ visible: true }).textContent())
      .toMatch(/did not answer at http:\/\/127\.0\.0\.1:1\/web-ready/);
    expect(
      await second.getByTestId("topology-balancer").filter({ visible: true }).getAttribute("data-health"),
    ).toBe("failed");
    expect(await second.getByTestId("history").textContent()).toMatch(/create/);
    await expect.poll(() => second.getByTestId("live-log").textContent()).toMatch(/create succeeded/);
    await shot(second, "07-detail-ready");
    await expectAccessible(second);

    await second.goto(`${webA.url}/environments/web-failed`);
    expect(await headerStatus(second)).toBe("failed");
    expect(await second.getByTestId("operation-live").textContent()).toMatch(/scripted failure/);
    expect(await second.getByTestId("retry").textContent()).toBe("Retry create");
    // Its first create failed: what exists is unknown, not "failing".
    expect(
      await second.getByTestId("topology-balancer").filter({ visible: true }).getAttribute("data-health"),
    ).toBe("unknown");
    await expect.poll(() => second.getByTestId("live-log").textContent()).toMatch(/create failed/);
    await shot(second, "08-detail-failed");
    await expectAccessible(second);

    await second.goto(`${webA.url}/environments/web-gone`);
    expect(await headerStatus(second)).toBe("destroyed");
    expect(await second.getByTestId("remove").count()).toBe(1);
    await expect.poll(() => second.getByTestId("live-log").textContent()).toMatch(/destroy succeeded/);
    await shot(second, "09-detail-destroyed");
    await expectAccessible(second);

    const response = await second.goto(`${webA.url}/environments/no-such-env`);
    expect(response?.status()).toBe(404);
    await expect
      .poll(() => second.getByTestId("env-missing").textContent())
      .toMatch(/No environment named “no-such-env”/);
    await shot(second, "10-unknown-environment");
    await expectAccessible(second);
  });

  it("an operation's event stream ends when the operation ends and when its reader goes away", async () => {
    const env = await db.environment.findFirstOrThrow({ where: { name: "web-running" } });
    const url = `${webB.url}/api/environments/web-running/operations/${env.lastOperationId}/events`;
    const response = await fetch(url);
    expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);
    const body = response.body?.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const readAll = (async () => {
      for (;;) {
        const chunk = await body?.read();
        if (!chunk || chunk.done) return;
        text += decoder.decode(chunk.value);
      }
    })();
    await expect.poll(() => text).toMatch(/event: progress/);
    expect(await eventStreams(webB)).toBe(1);
    expect((await cancelOperation(as(ALICE), { name: "web-running", idempotencyKey: key() })).ok).toBe(true);
    await readAll; // the server closed the stream
    expect(text).toMatch(/event: end\ndata: \{"status":"cancelled"/);
    await expect.poll(() => eventStreams(webB)).toBe(0);

    const held = await db.environment.findFirstOrThrow({ where: { name: "web-updating" } });
    const abort = new AbortController();
    const open = await fetch(
      `${webB.url}/api/environments/web-updating/operations/${held.lastOperationId}/events`,
      {
        signal: abort.signal,
      },
    );
    const reader = open.body?.getReader();
    await reader?.read();
    expect(await eventStreams(webB)).toBe(1);
    abort.abort();
    await expect.poll(() => eventStreams(webB), { timeout: 5000 }).toBe(0);
  });

  it("cancel a running operation and retry a failed one, in the browser", async () => {
    const { page } = await newPage();
    page.setDefaultTimeout(10_000);
    try {
      await page.goto(`${webA.url}/environments/web-updating`);
      expect(await headerStatus(page)).toBe("updating");
      await page.getByTestId("cancel").click();
      await expect
        .poll(() => page.getByTestId("cancel-message").textContent())
        .toBe("Cancelling: the running operation is being stopped.");
      await expect.poll(() => headerStatus(page), { timeout: 15_000 }).toBe("failed");
      await expect.poll(() => page.getByTestId("live-status").textContent()).toBe("cancelled");

      script({ durationMs: 200, logLines: 12 }); // the next run of web-failed succeeds
      await page.goto(`${webA.url}/environments/web-failed`);
      await page.getByTestId("retry").click();
      // The answer stays, although the button goes away as soon as the retry runs (no longer possible).
      await expect.poll(() => page.getByTestId("retry-message").textContent()).toBe("Create requested.");
      await expect.poll(() => headerStatus(page), { timeout: 20_000 }).toBe("ready");
      expect(await page.getByTestId("frontends-state").textContent()).toBe("2 / 2");
      const creates = await db.operation.findMany({
        where: { environment: { name: "web-failed" } },
        orderBy: { createdAt: "asc" },
      });
      expect(creates.map((o) => [o.kind, o.status])).toEqual([
        ["create", "failed"],
        ["create", "succeeded"],
      ]);
      expect(creates[1]?.retryOfId).toBe(creates[0]?.id);
      await shot(page, "11-detail-retried");
    } catch (e) {
      await page.screenshot({ path: path.join(shots, "failure.png"), fullPage: true });
      throw e;
    }
  });
});
