// The portal's PostgreSQL stopped and started again while an operation runs, with the portal started as
// `npm start` starts it (web and worker against that database) and the REAL operations on the local target
// (whose Pulumi state lives in the same database): the operation ends in a recorded state — succeeded, or
// failed/interrupted and then retried from the page —, the pages answer again without a restart, and nothing
// is lost: the environment ends ready with what was asked, its processes are exactly those of its state, no
// stack lock is left, and the operation's record keeps its start and its end. Screenshots:
// apps/portal/test-results/postgres-restart/.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createDbClient, type LocalPostgres, type PrismaClient, startEmbeddedPostgres } from "@platform/db";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../helpers/chromium";
import { waitFor } from "../helpers/database";
import { appDir, type PortalProcess, startPortal } from "../helpers/portal-process";

const shots = path.join(appDir, "test-results", "postgres-restart");
const NAME = "pg-outage";

let dir: string;
let pgDir: string;
let port: number;
let postgres: LocalPostgres;
let url: string;
let db: PrismaClient;
let portal: PortalProcess;
let browser: Browser;
let page: Page;

const headerStatus = () =>
  page.locator("h1[data-testid=env-name] + [data-testid=status-badge]").getAttribute("data-status");

const lastOperation = () =>
  db.environment.findFirstOrThrow({
    where: { name: NAME, deletedAt: null },
    include: { lastOperation: true },
  });

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  dir = mkdtempSync(path.join(tmpdir(), "portal-pg-restart-"));
  pgDir = path.join(dir, "pg");
  postgres = await startEmbeddedPostgres({ dataDir: pgDir });
  port = postgres.port;
  url = await postgres.database("portal");
  portal = await startPortal({
    DATABASE_URL: url,
    // A database of one's own: its workers must share a passphrase (the portal refuses to generate one).
    PULUMI_CONFIG_PASSPHRASE: "postgres-restart-test-passphrase",
    DATA_DIR: path.join(dir, "data"),
    LIST_REFRESH_SECONDS: "1",
    HEARTBEAT_SECONDS: "1",
    STALE_AFTER_SECONDS: "5",
    DRIFT_CHECK_LOCAL_SECONDS: "0",
  });
  db = createDbClient(url, { poolSize: 2 });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await db?.$disconnect().catch(() => {});
  await portal?.stop();
  await postgres?.stop().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe("PostgreSQL stopped and started during an operation", () => {
  it("records the operation's end, serves the pages again without a restart, and loses nothing", async () => {
    await page.goto(`${portal.url}/environments/new`);
    await page.locator("#name").fill(NAME);
    await page.getByTestId("create-submit").click();
    await page.waitForURL(new RegExp(`/environments/${NAME}$`), { timeout: 15_000 });
    // Mid-run: some resources are created, others not yet.
    await waitFor(
      "the create to be under way",
      async () => {
        const env = await lastOperation();
        return env.lastOperation?.status === "running" && env.lastOperation.progressDone >= 3;
      },
      180_000,
      100,
    );
    const operationId = (await lastOperation()).lastOperationId as string;

    await db.$disconnect();
    await postgres.stop();
    // While it is down the portal answers with an error page, not a hang.
    const during = await fetch(portal.url, { signal: AbortSignal.timeout(15_000) }).then((r) => r.status);
    expect(during).toBeGreaterThanOrEqual(500);
    await new Promise((r) => setTimeout(r, 12_000));
    postgres = await startEmbeddedPostgres({ dataDir: pgDir, port });
    db = createDbClient(url, { poolSize: 2 });

    // The operation ends in a recorded state.
    const ended = await waitFor(
      "the operation to end",
      async () => {
        const op = await db.operation.findUniqueOrThrow({ where: { id: operationId } });
        return ["succeeded", "failed", "interrupted"].includes(op.status) ? op : undefined;
      },
      180_000,
      500,
    );
    console.log(`the operation ended ${ended.status}${ended.error ? `: ${ended.error}` : ""}`);
    // The pages answer again, with no restart of the portal.
    await waitFor("the list page", async () => (await fetch(portal.url)).status === 200, 60_000, 500);
    await page.goto(`${portal.url}/environments/${NAME}`);
    await page.screenshot({ path: path.join(shots, "01-after-restart.png"), fullPage: true });

    if (ended.status !== "succeeded") {
      // Retryable from the page: the retry completes it.
      expect(ended.error).toBeTruthy();
      await page.getByRole("button", { name: /^Retry create/ }).click();
      await expect.poll(headerStatus, { timeout: 30_000, interval: 500 }).not.toBe("failed");
    }
    await expect.poll(headerStatus, { timeout: 240_000, interval: 500 }).toBe("ready");
    await page.screenshot({ path: path.join(shots, "02-ready.png"), fullPage: true });

    // Nothing lost: what was asked is what runs, and the state knows exactly those processes.
    const env = await lastOperation();
    expect(env).toMatchObject({ status: "ready", currentFrontendReplicas: 2, currentRedisReplicas: 1 });
    const frontendUrl = (env.outputs as { frontendUrl: string }).frontendUrl;
    expect((await fetch(`${frontendUrl}/api/results`)).status).toBe(200);
    const status = spawnSync(
      "supervisorctl",
      ["-c", path.join(dir, "data", "environments", NAME, "supervisor", "supervisord.conf"), "status"],
      { encoding: "utf8" },
    ).stdout;
    const programs = status
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split(/\s+/).slice(0, 2).join(" "))
      .filter((l) => !l.startsWith("process-events"))
      .sort();
    expect(programs).toEqual(
      ["frontend-0", "frontend-1", "redis-0", "redis-reader", "redis-writer", "web"].map(
        (p) => `${p} RUNNING`,
      ),
    );
    const locks = await db.$queryRaw<{ key: string }[]>`
      SELECT key FROM pulumi_state WHERE key LIKE ${`%/.pulumi/locks/%/${NAME}/%`}`;
    expect(locks).toEqual([]);
    // The operation's live log kept what happened while the database was away: every resource step that
    // started has its end (the worker kept the events it could not write and wrote them once it could).
    const steps = await db.operationEvent.findMany({
      where: { operationId, type: "resource" },
      orderBy: { id: "asc" },
    });
    const started = steps.filter((e) => e.message.startsWith("… ")).map((e) => e.message.slice(2));
    const finished = steps
      .filter((e) => /^[✓✗] /.test(e.message))
      .map((e) => e.message.slice(2).replace(/ \([\d.]+ s\)$/, ""));
    expect(started.length).toBeGreaterThan(5);
    expect(finished.sort()).toEqual(started.sort());
    if (ended.status === "succeeded") {
      // As many creates as Pulumi's summary counts (it leaves the provider out).
      const creates = finished.filter((m) => m.startsWith("create ") && !m.includes("pulumi:providers:"));
      expect(creates.length).toBe((ended.changes as { create: number }).create);
    }
    // The operation's record keeps its start and its end.
    const notes = await db.operationEvent.findMany({
      where: { operationId, type: { in: ["status", "notice"] } },
      orderBy: { id: "asc" },
    });
    expect(notes[0]?.message).toMatch(/^create started by /);
    expect(notes.at(-1)?.message).toMatch(/create (succeeded|failed|interrupted)/);
  });
});
