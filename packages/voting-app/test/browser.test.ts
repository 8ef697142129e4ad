import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningApp } from "../src/app.js";
import { launchChromium } from "../src/dev/chromium.js";
import { type RedisServer, startRedisServer } from "../src/dev/redis-server.js";
import { counts, startTestApp, vote } from "./helpers/app.js";

const SHOTS = fileURLToPath(new URL("../test-results/", import.meta.url));

let redis: RedisServer;
let app: RunningApp;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  redis = await startRedisServer();
  app = await startTestApp({
    REDIS_PORT: String(redis.port),
    REPLICA_NAME: "browser-test",
    ALLOW_RESET: "true",
  });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await redis?.stop();
});
beforeEach(async () => {
  await fetch(`${app.url}/api/votes`, { method: "DELETE" });
});

const count = (page: Page, option: string) => page.getByTestId(`count-${option}`);

describe("voting in a real browser", () => {
  it("with JavaScript: votes without reloading and updates live", async () => {
    // Reduced motion: bars jump to their width, so screenshots show the final state.
    const context = await browser.newContext({
      viewport: { width: 800, height: 720 },
      reducedMotion: "reduce",
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    try {
      await page.goto(app.url);
      await expect.poll(() => count(page, "Cats").textContent()).toBe("0");
      expect(await page.getByTestId("served-by").textContent()).toBe("browser-test");

      let navigated = false;
      page.on("framenavigated", () => {
        navigated = true;
      });
      await page.getByRole("button", { name: "Cats", exact: true }).click();
      await expect.poll(() => count(page, "Cats").textContent()).toBe("1");
      await page.getByRole("button", { name: "Cats", exact: true }).click();
      await page.getByRole("button", { name: "Dogs", exact: true }).click();
      await expect.poll(() => count(page, "Cats").textContent()).toBe("2");
      await expect.poll(() => count(page, "Dogs").textContent()).toBe("1");
      expect(await page.getByTestId("percent-Cats").textContent()).toBe("66.7%");
      expect(await page.getByTestId("notice").textContent()).toContain("Your vote for Dogs was counted");
      expect(navigated).toBe(false); // no reload: the JSON API was used
      expect(await counts(app.url)).toEqual({ Cats: 2, Dogs: 1 });

      // A vote arriving elsewhere (another replica, another user) shows up without a reload.
      await vote(app.url, "Dogs");
      await vote(app.url, "Dogs");
      await expect.poll(() => count(page, "Dogs").textContent(), { timeout: 5000 }).toBe("3");
      expect(await page.getByTestId("total").textContent()).toBe("5");

      await page.screenshot({ path: `${SHOTS}voting-page-js.png`, fullPage: true });

      // Reset through the disclosure.
      await page.getByText("Reset votes").click();
      await page.getByRole("button", { name: "Yes, reset all votes" }).click();
      await expect.poll(() => page.getByTestId("total").textContent()).toBe("0");
      expect(await counts(app.url)).toEqual({ Cats: 0, Dogs: 0 });
      expect(errors).toEqual([]); // CSP let the inline script run; no console errors
    } finally {
      await context.close();
    }
  });

  it("without JavaScript: the form posts, redirects and shows the new tally", async () => {
    const context = await browser.newContext({
      javaScriptEnabled: false,
      viewport: { width: 800, height: 720 },
    });
    const page = await context.newPage();
    try {
      await page.goto(app.url);
      expect(await count(page, "Dogs").textContent()).toBe("0");
      await Promise.all([
        page.waitForURL(/\?voted=Dogs$/),
        page.getByRole("button", { name: "Dogs", exact: true }).click(),
      ]);
      expect(await count(page, "Dogs").textContent()).toBe("1");
      expect(await page.getByTestId("percent-Dogs").textContent()).toBe("100%");
      expect(await page.getByTestId("notice").textContent()).toBe("Thanks! Your vote for Dogs was counted.");
      await Promise.all([
        page.waitForURL(/\?voted=Cats$/),
        page.getByRole("button", { name: "Cats", exact: true }).click(),
      ]);
      expect(await count(page, "Cats").textContent()).toBe("1");
      expect(await page.getByText("1 vote ·").count()).toBe(2); // singular
      expect(await counts(app.url)).toEqual({ Cats: 1, Dogs: 1 });
      await page.screenshot({ path: `${SHOTS}voting-page-no-js.png`, fullPage: true });

      await page.getByText("Reset votes").click();
      await Promise.all([
        page.waitForURL(/\?reset=1$/),
        page.getByRole("button", { name: "Yes, reset all votes" }).click(),
      ]);
      expect(await page.getByTestId("total").textContent()).toBe("0");
    } finally {
      await context.close();
    }
  });

  it("tells the visitor when the vote store is down", async () => {
    const down = await startTestApp({ REDIS_PORT: "1", REPLICA_NAME: "no-redis" }, false);
    const context = await browser.newContext({ viewport: { width: 800, height: 600 } });
    const page = await context.newPage();
    try {
      await page.goto(down.url);
      expect(await page.getByTestId("store-unavailable").isVisible()).toBe(true);
      await page.getByRole("button", { name: "Cats", exact: true }).click();
      await expect.poll(() => page.getByTestId("notice").textContent()).toContain("could not be counted");
      await page.screenshot({ path: `${SHOTS}voting-page-store-down.png`, fullPage: true });
    } finally {
      await context.close();
      await down.close();
    }
  });
});
