// The cache and database options in real Chromium against the portal as `npm start` runs it, with the REAL
// operations on the local target: create with ElastiCache (locally: Redis with AOF) and PostgreSQL, see both in
// the topology, on the detail page and in the list, vote (recorded in the environment's PostgreSQL), destroy:
// every local process (PostgreSQL included) gone, its ports free, its folder removed. Pages checked with axe and
// at 800 px; screenshots in apps/portal/test-results/.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../helpers/chromium";
import { appDir, type PortalProcess, startPortal } from "../helpers/portal-process";

const shots = path.join(appDir, "test-results");
const NAME = "e2e-tiers";
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

let portal: PortalProcess;
let browser: Browser;
let page: Page;

const shot = (file: string) => page.screenshot({ path: path.join(shots, file), fullPage: true });
const headerStatus = () => page.locator("h1[data-testid=env-name] + [data-testid=status-badge]");

async function waitForStatus(status: string, timeoutMs: number) {
  await expect
    .poll(async () => headerStatus().getAttribute("data-status"), { timeout: timeoutMs, interval: 500 })
    .toBe(status);
}

async function expectAccessible() {
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

async function at800(file: string) {
  await page.setViewportSize({ width: 800, height: 900 });
  try {
    await page.screenshot({ path: path.join(shots, file), fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${file}: wider than 800 px`).toBeLessThanOrEqual(0);
  } finally {
    await page.setViewportSize({ width: 1366, height: 900 });
  }
}

interface ServiceRecord {
  name: string;
  pid: number;
  port: number;
}

/** The environment's services as its supervisord runs them (`supervisorctl status`), with their ports. */
function services(envDir: string): ServiceRecord[] {
  const config = path.join(envDir, "supervisor", "supervisord.conf");
  if (!existsSync(config)) return [];
  const ports = JSON.parse(readFileSync(path.join(envDir, "ports.json"), "utf8")) as Record<string, number>;
  return (spawnSync("supervisorctl", ["-c", config, "status"], { encoding: "utf8" }).stdout ?? "")
    .split("\n")
    .map((line) => line.match(/^(\S+)\s+RUNNING\s+pid (\d+)/))
    .filter((m): m is RegExpMatchArray => !!m && m[1] !== "process-events")
    .map((m) => ({ name: m[1] ?? "", pid: Number(m[2]), port: ports[m[1] ?? ""] ?? 0 }));
}

/** Its supervisor's pid. */
const supervisorPid = (envDir: string) =>
  Number(readFileSync(path.join(envDir, "run", "supervisord.pid"), "utf8").trim());

const alive = (pid: number) =>
  existsSync(`/proc/${pid}`) && !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  portal = await startPortal({ LIST_REFRESH_SECONDS: "1", WORKER_CONCURRENCY: "1" });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await portal?.stop();
}, 120_000);

describe("cache and database options in a real browser", () => {
  it("creates with ElastiCache and PostgreSQL, shows them, votes, destroys everything", async () => {
    try {
      await page.goto(`${portal.url}/environments/new`);
      await page.locator("#name").fill(NAME);
      // The options, chosen by their labels as a person would.
      await page.getByRole("radio", { name: /ElastiCache/ }).check();
      await expect
        .poll(() => page.getByText(/Locally: redis-server processes with AOF persistence/).count())
        .toBe(1);
      // The cache slider now counts cache nodes.
      await expect.poll(() => page.locator("label[for=redisReplicas]").textContent()).toBe("Cache nodes");
      await page.getByRole("radio", { name: /^PostgreSQL/ }).check();
      await expect.poll(() => page.getByLabel(/Instance class/).count()).toBe(1);
      // Bad input is refused with a field message, nothing created.
      await page.getByLabel(/Storage \(GiB\)/).fill("5");
      await page.getByTestId("create-submit").click();
      await expect.poll(() => page.locator("#dbStorageGb-error").textContent()).toMatch(/at least 20 GiB/);
      await page.getByLabel(/Storage \(GiB\)/).fill("30");
      const slider = page.locator("#redisReplicas");
      await slider.focus();
      await page.keyboard.press("Home");
      await page.keyboard.press("ArrowRight"); // 2 nodes: a primary and a replica
      await expect.poll(() => page.getByTestId("redisReplicas-value").textContent()).toBe("2");
      const frontends = page.locator("#frontendReplicas");
      await frontends.focus();
      await page.keyboard.press("Home"); // 1 frontend
      await shot("tiers-01-new.png");
      await expectAccessible();
      await at800("tiers-01-new-800.png");
      await page.getByTestId("create-submit").click();
      await page.waitForURL(new RegExp(`/environments/${NAME}$`), { timeout: 15_000 });
      await waitForStatus("ready", 300_000);

      // The detail page: the options, and the topology with the chosen parts, live.
      await expect.poll(() => page.getByTestId("cache-option").textContent()).toBe("ElastiCache");
      await expect.poll(() => page.getByTestId("database-option").textContent()).toBe("PostgreSQL");
      expect(
        await page.getByTestId("topology-cache").filter({ visible: true }).getAttribute("data-kind"),
      ).toBe("elasticache");
      await expect
        .poll(() => page.getByTestId("topology-writer").filter({ visible: true }).textContent())
        .toMatch(/ElastiCache primary/);
      await expect
        .poll(() => page.getByTestId("topology-readers").filter({ visible: true }).getAttribute("data-count"))
        .toBe("1");
      await expect
        .poll(() => page.getByTestId("topology-health").filter({ visible: true }).textContent(), {
          timeout: 30_000,
        })
        .toMatch(/All tiers answer/);
      await expect
        .poll(() =>
          page.getByTestId("topology-database").filter({ visible: true }).getAttribute("data-health"),
        )
        .toBe("healthy");
      await shot("tiers-02-detail-ready.png");
      await expectAccessible();
      await at800("tiers-02-detail-800.png");

      // The list says it too.
      await page.goto(portal.url);
      await expect
        .poll(() => page.getByTestId(`env-row-${NAME}`).getByTestId("tier-options").textContent())
        .toBe("ElastiCache · PostgreSQL");
      await shot("tiers-03-list.png");

      // Vote on the environment's frontend.
      await page.goto(`${portal.url}/environments/${NAME}`);
      const frontendUrl = (await page.getByTestId("frontend-link").getAttribute("href")) as string;
      await page.goto(frontendUrl);
      await page.locator("#vote-form button").first().click();
      await expect.poll(async () => Number(await page.getByTestId("total").textContent())).toBe(1);
      await shot("tiers-04-voted.png");

      // Destroy, and check the machine: every process of the environment gone, PostgreSQL included.
      const envDir = path.join(portal.dataDir, "environments", NAME);
      const records = services(envDir);
      expect(records.map((r) => r.name).sort()).toEqual(
        ["frontend-0", "postgres", "redis-0", "redis-1", "redis-reader", "redis-writer", "web"].sort(),
      );
      expect(records.every((r) => alive(r.pid))).toBe(true);
      const supervisor = supervisorPid(envDir);
      expect(alive(supervisor)).toBe(true);
      await page.goto(`${portal.url}/environments/${NAME}`);
      await page.locator("#confirmation").fill(NAME);
      await page.getByTestId("destroy-submit").click();
      await waitForStatus("destroyed", 240_000);
      await shot("tiers-05-destroyed.png");
      for (const r of records) {
        expect(alive(r.pid), `${r.name} (pid ${r.pid})`).toBe(false);
        expect(await portFree(r.port), `${r.name} port ${r.port}`).toBe(true);
      }
      expect(alive(supervisor), "the supervisor").toBe(false);
      expect(existsSync(envDir)).toBe(false);
    } catch (e) {
      await shot("tiers-failure.png").catch(() => {});
      console.error(portal.output().slice(-8000));
      throw e;
    }
  }, 900_000);
});
