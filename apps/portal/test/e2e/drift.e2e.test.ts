// Self-healing and drift end to end, in real Chromium against the portal started as `npm start` starts it, with
// the REAL operations on the local target (supervisord, HAProxy, redis-server, voting-app processes):
// - a frontend and then the Redis writer SIGKILLed while votes and reads flow: the supervisor replaces each within
//   seconds, reads never fail, and the operation history shows each repair with both pids;
// - the environment's supervisor SIGKILLed (what nothing repairs by itself): the scheduled drift check finds
//   every part gone, the list and the page say "Drifted" with what differs, and one click on Reconcile makes
//   the environment whole again, on the same URL.
// Screenshots (1366 px and 800 px, axe-checked) go to apps/portal/test-results/drift/.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../helpers/chromium";
import { appDir, type PortalProcess, startPortal } from "../helpers/portal-process";

const shots = path.join(appDir, "test-results", "drift");
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const NAME = "heal-me";

let portal: PortalProcess;
let browser: Browser;
let page: Page;

const envDir = () => path.join(portal.dataDir, "environments", NAME);
const supervisorctl = (...args: string[]) =>
  spawnSync("supervisorctl", ["-c", path.join(envDir(), "supervisor", "supervisord.conf"), ...args], {
    encoding: "utf8",
  }).stdout.trim();
const pidOf = (service: string) => Number(supervisorctl("pid", service)) || 0;

async function shot(name: string) {
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

async function expectAccessible() {
  await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const result = await (
      window as unknown as {
        axe: {
          run: (
            d: Document,
            o: unknown,
          ) => Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }>;
        };
      }
    ).axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
    return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  });
  expect(violations).toEqual([]);
}

const headerStatus = () =>
  page.locator("h1[data-testid=env-name] + [data-testid=status-badge]").getAttribute("data-status");

/** Reads the results through the public URL every 50 ms until stopped; records every answer's status. */
function reads(frontendUrl: string) {
  const statuses: number[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const status = await fetch(`${frontendUrl}/api/results`, { signal: AbortSignal.timeout(5000) })
        .then(async (r) => {
          await r.arrayBuffer();
          return r.status;
        })
        .catch(() => 0);
      statuses.push(status);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    statuses,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** The history rows' repair details on the environment's page (it re-renders itself). */
async function repairDetails(): Promise<string> {
  return (await page.getByTestId("repair-details").allTextContents()).join("\n");
}

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  portal = await startPortal({
    LIST_REFRESH_SECONDS: "1",
    WORKER_CONCURRENCY: "2",
    // A check every few seconds, and the supervisors' events read every second, so the test does not wait.
    DRIFT_CHECK_LOCAL_SECONDS: "4",
    REPAIR_SCAN_SECONDS: "1",
  });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await portal?.stop();
}, 120_000);

describe("self-healing and drift in the portal", () => {
  let frontendUrl = "";

  it("creates an environment with 2 frontends, a writer and a replica", async () => {
    await page.goto(`${portal.url}/environments/new`);
    await page.locator("#name").fill(NAME);
    for (const [id, value] of [
      ["frontendReplicas", 2],
      ["redisReplicas", 2],
    ] as const) {
      const slider = page.locator(`#${id}`);
      await slider.focus();
      await page.keyboard.press("Home");
      for (let i = Number(await slider.getAttribute("min")); i < value; i++)
        await page.keyboard.press("ArrowRight");
    }
    await page.getByTestId("create-submit").click();
    await page.waitForURL(new RegExp(`/environments/${NAME}$`), { timeout: 15_000 });
    await expect.poll(headerStatus, { timeout: 240_000, interval: 500 }).toBe("ready");
    frontendUrl = (await page.getByTestId("frontend-link").getAttribute("href")) ?? "";
    expect(frontendUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${frontendUrl}/api/votes`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ option: "Cats" }),
      });
      expect(res.status).toBe(201);
    }
  });

  it("a SIGKILLed frontend and a SIGKILLed Redis writer are replaced by themselves; reads never fail; the history shows both repairs", async () => {
    const load = reads(frontendUrl);
    const frontend = pidOf("frontend-1");
    process.kill(frontend, "SIGKILL");
    await expect.poll(() => pidOf("frontend-1"), { timeout: 15_000, interval: 200 }).not.toBe(frontend);
    const writer = pidOf("redis-0");
    process.kill(writer, "SIGKILL");
    await expect.poll(() => pidOf("redis-0"), { timeout: 15_000, interval: 200 }).not.toBe(writer);
    // Reads go on across both restarts and a while after (however slow a busy machine makes each read).
    const atRestart = load.statuses.length;
    await expect.poll(() => load.statuses.length, { timeout: 30_000 }).toBeGreaterThan(atRestart + 10);
    await load.stop();
    expect(
      load.statuses.filter((s) => s !== 200),
      "reads that failed",
    ).toEqual([]);

    await page.goto(`${portal.url}/environments/${NAME}`);
    await expect
      .poll(repairDetails, { timeout: 30_000, interval: 500 })
      .toMatch(
        new RegExp(
          `frontend-1 \\(pid ${frontend}\\) exited unexpectedly; the supervisor started it again as pid \\d+`,
        ),
      );
    await expect
      .poll(repairDetails, { timeout: 30_000, interval: 500 })
      .toMatch(
        new RegExp(
          `redis-0 \\(pid ${writer}\\) exited unexpectedly; the supervisor started it again as pid \\d+`,
        ),
      );
    // Repairs are history: the environment is ready and in sync, nothing to reconcile.
    expect(await headerStatus()).toBe("ready");
    expect(await page.getByTestId("drift-badge").count()).toBe(0);
    expect(await page.getByText("by supervisor").count()).toBeGreaterThan(0);
    // The votes survived the writer's restart (it came back from its replica's data).
    const results = (await (await fetch(`${frontendUrl}/api/results`)).json()) as {
      options: { name: string; count: number }[];
    };
    expect(results.options.find((o) => o.name === "Cats")?.count).toBe(3);
    await shot("01-detail-repairs");
    await expectAccessible();
  });

  it("a SIGKILLed supervisor is drift: the list and the page say Drifted and what differs; Reconcile repairs it", async () => {
    const supervisor = Number(readFileSync(path.join(envDir(), "run", "supervisord.pid"), "utf8"));
    process.kill(supervisor, "SIGKILL");

    await page.goto(portal.url);
    const row = page.getByTestId(`env-row-${NAME}`);
    await expect
      .poll(() => row.getByTestId("drift-badge").count(), { timeout: 60_000, interval: 500 })
      .toBe(1);
    expect(await row.getByTestId("drift-badge").textContent()).toMatch(/Drifted/);
    expect(await row.getByTestId("drift-badge").getAttribute("title")).toMatch(
      /supervisor \(Supervisor\) is gone/,
    );
    await shot("02-list-drifted");
    await expectAccessible();

    await row.getByRole("link", { name: NAME, exact: true }).click();
    await page.waitForURL(new RegExp(`/environments/${NAME}$`));
    const panel = page.getByRole("region", { name: /Drifted/ });
    await expect.poll(() => panel.count(), { timeout: 15_000 }).toBe(1);
    const reasons = await page.getByTestId("drift-reasons").textContent();
    for (const part of [
      "supervisor (Supervisor)",
      "frontend-0 (VotingApp)",
      "web (HttpLoadBalancer)",
      "redis-0 (RedisServer)",
    ]) {
      expect(reasons).toContain(`${part} is gone`);
    }
    expect(await page.getByTestId("drift-check").textContent()).toMatch(/^drifted · /);
    // The processes still answered while nothing supervised them: a drift check changes nothing.
    expect((await fetch(`${frontendUrl}/healthz`)).status).toBe(200);
    await shot("03-detail-drifted");
    await expectAccessible();

    await panel.getByRole("button", { name: "Reconcile" }).click();
    await expect.poll(headerStatus, { timeout: 30_000, interval: 500 }).toBe("updating");
    await expect.poll(headerStatus, { timeout: 240_000, interval: 500 }).toBe("ready");
    await expect.poll(() => page.getByTestId("drift-badge").count(), { timeout: 15_000 }).toBe(0);
    expect(await page.getByTestId("drift-panel").count()).toBe(0);
    expect(await page.getByTestId("history").getByText("reconcile").count()).toBeGreaterThan(0);
    // Whole again, on the same URL, and supervised: a killed frontend is replaced again.
    expect((await fetch(`${frontendUrl}/api/results`)).status).toBe(200);
    const frontend = pidOf("frontend-0");
    expect(frontend).toBeGreaterThan(0);
    process.kill(frontend, "SIGKILL");
    await expect.poll(() => pidOf("frontend-0"), { timeout: 15_000, interval: 200 }).not.toBe(frontend);
    // And the next scheduled check finds it in sync.
    await expect
      .poll(() => page.getByTestId("drift-check").textContent(), { timeout: 60_000, interval: 500 })
      .toMatch(/^in sync · /);
    await shot("04-detail-reconciled");
  });
});
