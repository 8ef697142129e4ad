// End to end in real Chromium against the portal started as `npm start` starts it, with the REAL operations
// on the local target: create (2 frontends, 1 Redis) → progress to ready → vote → scale to 3 frontends and see
// 3 replicas serve the page → destroy with confirmation → the link stops answering. Screenshots of each page
// go to apps/portal/test-results/.
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../helpers/chromium";
import { appDir, type PortalProcess, startPortal } from "../helpers/portal-process";

const shots = path.join(appDir, "test-results");
const NAME = "e2e-vote";

let portal: PortalProcess;
let browser: Browser;
let page: Page;

const shot = (file: string) => page.screenshot({ path: path.join(shots, file), fullPage: true });

async function setSlider(id: string, value: number) {
  // With the keyboard, as a person would: Home goes to the minimum, each ArrowRight adds one.
  const slider = page.locator(`#${id}`);
  await slider.focus();
  await page.keyboard.press("Home");
  const min = Number(await slider.getAttribute("min"));
  for (let i = min; i < value; i++) await page.keyboard.press("ArrowRight");
  await expect.poll(() => page.locator(`[data-testid=${id}-value]`).textContent()).toBe(String(value));
}

const headerStatus = () => page.locator("h1[data-testid=env-name] + [data-testid=status-badge]");

async function waitForStatus(status: string, timeoutMs: number) {
  await expect
    .poll(async () => headerStatus().getAttribute("data-status"), { timeout: timeoutMs, interval: 500 })
    .toBe(status);
}

async function servedBy(url: string): Promise<string> {
  await page.goto(url);
  return ((await page.locator("[data-testid=served-by]").textContent()) ?? "").trim();
}

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  portal = await startPortal({ LIST_REFRESH_SECONDS: "1", WORKER_CONCURRENCY: "2" });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await portal?.stop();
}, 120_000);

describe("the portal in a real browser", () => {
  it("creates, follows, votes, scales, destroys", async () => {
    try {
      await page.goto(portal.url);
      await expect.poll(() => page.locator("h1").textContent()).toBe("Environments");
      await shot("01-list-empty.png");

      await page.getByRole("link", { name: "New environment" }).first().click();
      await page.waitForURL(/\/environments\/new$/);
      // Bad input first: a field-level message, nothing created.
      await page.locator("#name").fill("Bad_Name");
      await page.getByTestId("create-submit").click();
      await expect.poll(() => page.locator("#name-error").textContent()).toMatch(/lower-case/);
      await shot("02-new-invalid.png");

      await page.locator("#name").fill(NAME);
      await setSlider("frontendReplicas", 2);
      await setSlider("redisReplicas", 1);
      await shot("03-new-filled.png");
      await page.getByTestId("create-submit").click();
      await page.waitForURL(new RegExp(`/environments/${NAME}$`), { timeout: 15_000 });

      // Live progress: the SSE log fills and the progress bar counts steps.
      await expect
        .poll(() => page.getByTestId("live-log").textContent(), { timeout: 60_000 })
        .toMatch(/create started/);
      await expect
        .poll(() => page.getByTestId("live-progress").textContent(), { timeout: 120_000 })
        .toMatch(/\d+ of \d+ steps/);
      await shot("04-detail-provisioning.png");
      await waitForStatus("ready", 240_000);
      await expect.poll(() => page.getByTestId("frontends-state").textContent()).toBe("2 / 2");
      await expect
        .poll(() =>
          page.getByTestId("topology-frontends").filter({ visible: true }).getAttribute("data-count"),
        )
        .toBe("2");
      // Live health: the frontend's readiness probe through the load balancer reaches Redis.
      await expect
        .poll(() => page.getByTestId("topology-health").filter({ visible: true }).textContent())
        .toMatch(/All tiers answer/);
      expect(
        await page.getByTestId("topology-writer").filter({ visible: true }).getAttribute("data-health"),
      ).toBe("healthy");
      await shot("05-detail-ready.png");

      const link = await page.getByTestId("frontend-link").getAttribute("href");
      expect(link).toMatch(/^http:\/\//);
      const frontendUrl = link as string;

      await page.goto(portal.url);
      await expect
        .poll(() =>
          page.getByTestId(`env-row-${NAME}`).getByTestId("status-badge").first().getAttribute("data-status"),
        )
        .toBe("ready");
      await shot("06-list-ready.png");

      // The server refuses a taken name with a field message and keeps what was typed.
      await page.goto(`${portal.url}/environments/new`);
      await page.locator("#name").fill(NAME);
      await page.getByTestId("create-submit").click();
      await expect.poll(() => page.locator("#name-error").textContent()).toMatch(/is taken/);
      expect(await page.locator("#name").inputValue()).toBe(NAME);
      await shot("06a-new-name-taken.png");

      // Vote on the environment's frontend.
      await page.goto(frontendUrl);
      const before = Number((await page.getByTestId("total").textContent()) ?? "0") || 0;
      await page.locator("#vote-form button").first().click();
      await expect.poll(async () => Number(await page.getByTestId("total").textContent())).toBe(before + 1);
      await shot("07-frontend-voted.png");

      // Scale frontends to 3.
      await page.goto(`${portal.url}/environments/${NAME}`);
      await setSlider("scale-frontend", 3);
      await expect
        .poll(() => page.getByTestId("scale-preview").textContent())
        .toMatch(/2 → 3 \(\+1 replica\)/);
      // A Pulumi preview first: what would change, nothing changed.
      await page.getByTestId("scale-preview-submit").click();
      await expect
        .poll(
          () =>
            page
              .getByTestId("pulumi-preview")
              .textContent()
              .catch(() => ""),
          { timeout: 120_000, interval: 500 },
        )
        .toMatch(/for 3 frontends.*: .*to (create|update)/);
      await expect.poll(() => page.getByTestId("frontends-state").textContent()).toBe("2 / 2");
      await shot("08a-detail-preview.png");
      await setSlider("scale-frontend", 3);
      await page.getByTestId("scale-submit").click();
      await expect.poll(() => page.getByTestId("scale-message").textContent()).toMatch(/Scale requested/);
      await waitForStatus("updating", 60_000).catch(() => {}); // may pass quickly
      await waitForStatus("ready", 240_000);
      await expect
        .poll(() => page.getByTestId("frontends-state").textContent(), { timeout: 10_000 })
        .toBe("3 / 3");
      await shot("08-detail-scaled.png");

      // Three different replicas serve the page.
      const seen = new Set<string>();
      for (let i = 0; i < 15 && seen.size < 3; i++) seen.add(await servedBy(frontendUrl));
      expect([...seen].filter(Boolean).length).toBe(3);
      await shot("09-frontend-replica.png");

      // Destroy: the button stays disabled until the name is typed.
      await page.goto(`${portal.url}/environments/${NAME}`);
      expect(await page.getByTestId("destroy-submit").isDisabled()).toBe(true);
      await page.locator("#confirmation").fill(NAME);
      await shot("10-destroy-confirm.png");
      await page.getByTestId("destroy-submit").click();
      await expect.poll(() => page.getByTestId("destroy-message").textContent()).toMatch(/requested/);
      await waitForStatus("destroyed", 240_000);
      await shot("11-detail-destroyed.png");
      const answered = await fetch(frontendUrl, { signal: AbortSignal.timeout(5000) }).then(
        () => true,
        () => false,
      );
      expect(answered).toBe(false);

      // The record of a destroyed environment can be removed.
      await page.goto(`${portal.url}/environments/${NAME}`);
      await page.getByTestId("remove").click();
      await page.waitForURL(/\/\?removed=/);
      await expect.poll(() => page.getByRole("status").first().textContent()).toMatch(/was removed/);
      expect(await page.getByTestId(`env-row-${NAME}`).count()).toBe(0);

      // Impossible actions and unknown environments get a message, not an error page.
      await page.goto(`${portal.url}/environments/no-such-env`);
      await expect.poll(() => page.getByTestId("env-missing").textContent()).toMatch(/No environment named/);
      await shot("12-unknown-environment.png");
    } catch (e) {
      await shot("failure.png").catch(() => {});
      console.error(portal.output().slice(-8000));
      throw e;
    }
  }, 900_000);
});
