// Networks and cost estimates in real Chromium against the real portal (a web process as `npm start` runs it,
// with AWS offered) and a worker PROCESS (the real OperationWorker; its operations are scripted, since AWS cannot
// be reached from here: test/fixtures/scripted-worker.ts). The create form's estimate updates as the sliders,
// the region and the target change; the first AWS environment of a region creates its network, which the
// Networks page shows with its operations and live log; a destroy of a network in use is refused with the
// reason and changes nothing; once its environment is gone it is destroyed. The list shows the total cost of
// what it filters, the environment page its own estimate and its shared network (local: the loopback).
// Screenshots go to apps/portal/test-results/networks/; pages are checked with axe-core at 1366 and 800 px.
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { createDbClient, type PrismaClient } from "@platform/db";
import {
  type EnvironmentCostInput,
  estimateEnvironmentCost,
  estimateNetworkCost,
  formatUsd,
} from "@platform/infra/cost";
import type PgBoss from "pg-boss";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CommandContext,
  createEnvironment,
  destroyEnvironment,
} from "../../src/features/environments/commands";
import { startQueue } from "../../src/server/queue";
import { makePrincipal } from "../../src/shared/access";
import { launchChromium } from "../helpers/chromium";
import { startTestDatabaseServer, type TestDatabaseServer, waitFor } from "../helpers/database";
import { appDir, type PortalProcess, startPortal } from "../helpers/portal-process";
import {
  type ScriptedWorkerProcess,
  startScriptedWorker,
  writeScript,
} from "../helpers/scripted-worker-process";

const shots = path.join(appDir, "test-results", "networks");
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

let pg: TestDatabaseServer;
let db: PrismaClient;
let sender: PgBoss;
let web: PortalProcess;
let worker: ScriptedWorkerProcess;
let browser: Browser;
const cleanups: Array<() => Promise<unknown>> = [];
const admin = (): CommandContext => ({
  db,
  boss: sender,
  principal: makePrincipal("dev@localhost", "admin"),
});

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  pg = await startTestDatabaseServer();
  cleanups.push(() => pg.stop());
  const url = await pg.fresh();
  db = createDbClient(url, { poolSize: 4 });
  cleanups.push(() => db.$disconnect());
  sender = await startQueue(url, { role: "sender" });
  cleanups.push(() => sender.stop({ graceful: false, wait: true }));
  web = await startPortal({
    DATABASE_URL: url,
    PORTAL_ROLE: "web",
    LIST_REFRESH_SECONDS: "1",
    AWS_REGIONS: "eu-west-1,us-east-1,sa-east-1",
    AWS_PROFILE: "portal-test",
  });
  cleanups.push(() => web.stop());
  const scriptFile = path.join(pg.dir, "script.json");
  writeScript(scriptFile, { durationMs: 1500, logLines: 5 });
  // Two at once: an environment's create is claimed while its network's runs (and waits for it).
  worker = await startScriptedWorker({
    DATABASE_URL: url,
    WORKER_ID: "worker-net",
    SCRIPT_FILE: scriptFile,
    WORKER_CONCURRENCY: "2",
  });
  cleanups.push(() => worker.stop());
  browser = await launchChromium();
  cleanups.push(() => browser.close());
}, 180_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
}, 120_000);

async function newPage(): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 1366, height: 900 },
    reducedMotion: "reduce",
  });
  cleanups.push(() => context.close());
  return await context.newPage();
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

/** What the page must show: the estimator's own answer for these inputs, formatted as the page formats it. */
function expected(
  region: string,
  frontendReplicas: number,
  redisReplicas: number,
  environments: number,
  options: Pick<EnvironmentCostInput, "cache" | "database"> = {},
) {
  return formatUsd(
    estimateEnvironmentCost({
      region,
      frontendReplicas,
      redisReplicas,
      network: { natGateways: 1, environments, adopted: false },
      ...options,
    }).monthlyTotal,
  );
}

const lineKeys = (page: Page) =>
  page
    .getByTestId("cost-estimate-lines")
    .locator("tr[data-line]")
    .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-line")));

const total = (page: Page) => page.getByTestId("cost-estimate-total").textContent();
const statusOf = async (name: string) =>
  (await db.environment.findFirst({ where: { name, deletedAt: null } }))?.status;
const networkRow = () =>
  db.network.findFirst({
    where: { name: "aws-eu-west-1", deletedAt: null },
    include: { lastOperation: true },
  });

describe("networks and cost estimates in the browser", () => {
  it("the create form's estimate follows the sliders, the region and the target", async () => {
    const page = await newPage();
    await page.goto(`${web.url}/environments/new`);
    // Local: no cloud cost.
    await expect.poll(() => page.getByTestId("cost-estimate-none").count()).toBe(1);
    await page.getByLabel(/AWS Fargate/).check();
    // eu-west-1 has no network yet: this environment would be the first to share it (1 NAT gateway).
    await expect.poll(() => total(page)).toBe(`${expected("eu-west-1", 2, 1, 1)} / month`);
    expect(await page.getByTestId("region-network").textContent()).toMatch(
      /The region has no network yet: aws-eu-west-1 is created first/,
    );
    expect(await lineKeys(page)).toEqual([
      "frontend-tasks",
      "redis-tasks",
      "alb-hours",
      "alb-lcu",
      "alb-ipv4",
      "nlb-hours",
      "nlb-lcu",
      "secret",
      "nat-data",
      "network-share",
    ]);
    await shot(page, "01-create-estimate");
    await expectAccessible(page);

    // Sliders, with the keyboard: 4 frontends, 3 Redis nodes.
    await page.locator("#frontendReplicas").focus();
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    await page.locator("#redisReplicas").focus();
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    await expect.poll(() => total(page)).toBe(`${expected("eu-west-1", 4, 3, 1)} / month`);
    await page.locator("#region").selectOption("us-east-1");
    await expect.poll(() => total(page)).toBe(`${expected("us-east-1", 4, 3, 1)} / month`);

    // The options add their own lines: ElastiCache nodes instead of Redis tasks and their NLB, then a database.
    await page.getByRole("radio", { name: /^ElastiCache/ }).check();
    await page.locator("#cacheNodeType").selectOption("cache.t4g.small");
    const cache = { kind: "elasticache", nodeType: "cache.t4g.small" } as const;
    await expect.poll(() => total(page)).toBe(`${expected("us-east-1", 4, 3, 1, { cache })} / month`);
    await page.getByRole("radio", { name: /^PostgreSQL/ }).check();
    await expect
      .poll(() => total(page))
      .toBe(`${expected("us-east-1", 4, 3, 1, { cache, database: {} })} / month`);
    await page.locator("#dbInstanceClass").selectOption("db.m7g.large");
    await page.locator("#dbStorageGb").fill("100");
    const database = { instanceClass: "db.m7g.large", storageGb: 100 };
    await expect
      .poll(() => total(page))
      .toBe(`${expected("us-east-1", 4, 3, 1, { cache, database })} / month`);
    expect(await lineKeys(page)).toEqual([
      "frontend-tasks",
      "alb-hours",
      "alb-lcu",
      "alb-ipv4",
      "secret",
      "elasticache-nodes",
      "rds-instance",
      "rds-storage",
      "rds-secret",
      "nat-data",
      "network-share",
    ]);
    await shot(page, "01b-create-estimate-options");
    // Storage below the minimum (being typed) keeps the last good estimate; then back to the defaults.
    await page.locator("#dbStorageGb").fill("5");
    await expect
      .poll(() => total(page))
      .toBe(`${expected("us-east-1", 4, 3, 1, { cache, database })} / month`);
    await page.getByRole("radio", { name: /^None/ }).check();
    await page.getByRole("radio", { name: /^Redis/ }).check();
    await expect.poll(() => total(page)).toBe(`${expected("us-east-1", 4, 3, 1)} / month`);
    // A region the price table does not cover: said plainly, no number.
    await page.locator("#region").selectOption("sa-east-1");
    await expect
      .poll(() => page.getByTestId("cost-estimate-unavailable").textContent())
      .toMatch(
        /^No estimate: no prices for region sa-east-1: the price table \(\d{4}-\d{2}-\d{2}\) covers us-east-1/,
      );
    await shot(page, "02-create-no-prices");
    await page.getByLabel(/Local/).check();
    await expect.poll(() => page.getByTestId("cost-estimate-none").count()).toBe(1);
  });

  it("the first AWS environment of a region creates its network; the Networks page shows it with its log", async () => {
    const page = await newPage();
    await page.goto(`${web.url}/environments/new`);
    await page.locator("#name").fill("team-net");
    await page.getByLabel(/AWS Fargate/).check();
    await page.locator("#region").selectOption("eu-west-1");
    await page.getByTestId("create-submit").click();
    await page.waitForURL(/\/environments\/team-net$/);
    // Its log says it waits for the network, then it runs.
    await expect
      .poll(() => page.getByRole("log").textContent(), { timeout: 30_000 })
      .toMatch(/waiting for network aws-eu-west-1/);
    await waitFor("team-net ready", async () => (await statusOf("team-net")) === "ready", 60_000);
    await page.reload();
    await expect
      .poll(() => page.getByTestId("topology-network").filter({ visible: true }).textContent())
      .toMatch(
        /Shared network: aws-eu-west-1VPC vpc-0a1b2c3d4e5f60718, eu-west-1, shared with 0 other environments \(network ready\)/,
      );
    await expect.poll(() => total(page)).toBe(`${expected("eu-west-1", 2, 1, 1)} / month`);
    await shot(page, "03-environment-cost-and-network");
    await expectAccessible(page);

    // The Networks page: the network, its environment count and own cost (one NAT gateway and its address).
    await page.goto(`${web.url}/networks`);
    const row = page.getByTestId("network-row-aws-eu-west-1");
    await expect
      .poll(() => row.getByTestId("status-badge").first().getAttribute("data-status"))
      .toBe("ready");
    expect(await row.getByTestId("network-environments").textContent()).toBe("1");
    const own = formatUsd(estimateNetworkCost({ region: "eu-west-1", natGateways: 1 }).monthlyTotal);
    expect(await row.getByTestId("network-cost").textContent()).toBe(own);
    expect(await page.getByTestId("local-network").textContent()).toMatch(
      /loopback.*shared by every local environment/,
    );
    await shot(page, "04-networks");
    await expectAccessible(page);

    await row.getByRole("link", { name: "aws-eu-west-1" }).click();
    await page.waitForURL(/\/networks\/aws-eu-west-1$/);
    expect(await page.getByTestId("network-cost-estimate-total").textContent()).toBe(`${own} / month`);
    expect(await page.getByTestId("network-environment-list").textContent()).toMatch(/team-net/);
    // The create's events, streamed by the same live log as environments'.
    await expect.poll(() => page.getByRole("log").textContent()).toMatch(/create succeeded in/);
    expect(await page.getByTestId("network-history").textContent()).toMatch(
      /createby dev@localhostSucceeded/,
    );
    await shot(page, "05-network-detail");
    await expectAccessible(page);
  });

  it("refuses to destroy the network while an environment uses it, and destroys it once it is gone", async () => {
    const page = await newPage();
    await page.goto(`${web.url}/networks/aws-eu-west-1`);
    expect(await page.getByTestId("destroy-network-hint").textContent()).toBe(
      "Network aws-eu-west-1 is used by 1 environment: destroy it first. Nothing was changed.",
    );
    const before = await db.operation.count();
    await page.locator("#network-confirmation").fill("aws-eu-west-1");
    await page.getByTestId("destroy-network-submit").click();
    await expect
      .poll(() => page.getByTestId("destroy-network-message").textContent())
      .toBe("Network aws-eu-west-1 is used by 1 environment: destroy it first. Nothing was changed.");
    expect(await db.operation.count()).toBe(before);
    expect((await networkRow())?.status).toBe("ready");
    await shot(page, "06-network-destroy-refused");

    await destroyEnvironment(admin(), {
      name: "team-net",
      confirmation: "team-net",
      idempotencyKey: randomUUID(),
    });
    await waitFor("team-net destroyed", async () => (await statusOf("team-net")) === "destroyed", 60_000);
    await page.reload();
    await page.locator("#network-confirmation").fill("aws-eu-west-1");
    await page.getByTestId("destroy-network-submit").click();
    await expect
      .poll(() => page.getByTestId("destroy-network-message").textContent())
      .toBe("Destroy requested.");
    await expect
      .poll(() => page.getByRole("log").textContent(), { timeout: 30_000 })
      .toMatch(/destroy (started|succeeded)/);
    await waitFor("network destroyed", async () => (await networkRow())?.status === "destroyed", 60_000);
    await page.reload();
    expect(await page.locator("h1 + [data-testid=status-badge]").getAttribute("data-status")).toBe(
      "destroyed",
    );
    await shot(page, "07-network-destroyed");
    await expectAccessible(page);
  });

  it("the list shows the total cost of what it filters; a local environment's network is the loopback", async () => {
    // Two AWS environments in us-east-1 (its network made by the first), one local.
    // cost-b with both options: its cache nodes and database count in the total.
    for (const [name, target, region, options] of [
      ["cost-a", "aws", "us-east-1", {}],
      [
        "cost-b",
        "aws",
        "us-east-1",
        {
          cacheKind: "elasticache",
          cacheNodeType: "cache.m7g.large",
          database: "postgres",
          dbStorageGb: 40,
        },
      ],
      ["cost-local", "local", undefined, {}],
    ] as const) {
      expect(
        await createEnvironment(admin(), {
          name,
          target,
          region,
          frontendReplicas: 2,
          redisReplicas: 1,
          ...options,
          idempotencyKey: randomUUID(),
        }),
      ).toMatchObject({ ok: true });
    }
    for (const name of ["cost-a", "cost-b", "cost-local"])
      await waitFor(`${name} ready`, async () => (await statusOf(name)) === "ready", 60_000);
    const page = await newPage();
    await page.goto(web.url);
    // Each of the two shares the NAT of aws-us-east-1 by half; cost-b adds its options' line items.
    const of = (options: Pick<EnvironmentCostInput, "cache" | "database">) =>
      estimateEnvironmentCost({
        region: "us-east-1",
        frontendReplicas: 2,
        redisReplicas: 1,
        network: { natGateways: 1, environments: 2, adopted: false },
        ...options,
      }).monthlyTotal;
    const a = of({});
    const b = of({
      cache: { kind: "elasticache", nodeType: "cache.m7g.large" },
      database: { storageGb: 40 },
    });
    expect(b).toBeGreaterThan(a);
    await expect
      .poll(() => page.getByTestId("list-cost-total").textContent())
      .toBe(formatUsd((Math.round(a * 100) + Math.round(b * 100)) / 100));
    // And on cost-b's own page, the same figure with its options' lines.
    await page.goto(`${web.url}/environments/cost-b`);
    await expect.poll(() => total(page)).toBe(`${formatUsd(b)} / month`);
    expect(await lineKeys(page)).toContain("rds-instance");
    expect(await lineKeys(page)).toContain("elasticache-nodes");
    await page.goto(web.url);
    expect(await page.getByTestId("list-cost").textContent()).toMatch(
      /\(2 on AWS; 1 local, which cost nothing/,
    );
    await shot(page, "08-list-total");
    await expectAccessible(page);

    await page.goto(`${web.url}/environments/cost-local`);
    expect(await page.getByTestId("topology-network").filter({ visible: true }).textContent()).toMatch(
      /Shared network: loopback.*this machine's loopback interface \(127\.0\.0\.1\), shared by every local environment/,
    );
    expect(await page.getByTestId("cost-estimate-none").count()).toBe(1);
    await shot(page, "09-local-topology");
  });
});
