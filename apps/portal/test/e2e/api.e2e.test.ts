// The API (/api/v1), tokens and webhooks end to end: the portal started as `npm start` starts a web process
// (AUTH_MODE=dev, its own restricted database role) against a real PostgreSQL, a worker process whose operations
// are scripted (quick, or held mid-run to reach each state on demand), and the webhook dispatcher process. Every
// route is called over HTTP with tokens of different owners and roles: admin (made by the bootstrap command
// `npm run token:create`), members of two teams and a viewer (made on the Tokens page in Chromium, or by the
// command), a read-only, an expired and a revoked token. Answers are checked against the API's own zod schemas.
// Webhooks: added on the Webhooks page, received by a test server with a valid signature (the documented
// verifier), retried after a failure, shown in the delivery log. Screenshots: test-results/api/.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { createDbClient, type PrismaClient } from "@platform/db";
import { freePort } from "@platform/db/embedded-postgres";
import { validate } from "@readme/openapi-parser";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { verifyWebhookSignature } from "../../../../packages/cli/src/webhook-signature";
import {
  commandAnswerSchema,
  environmentListSchema,
  environmentSchema,
  errorSchema,
  eventListSchema,
  meSchema,
  operationListSchema,
  operationSchema,
} from "../../src/features/api/schemas";
import { createToken } from "../../src/features/tokens/tokens";
import { ensureLoginRole, withCredentials } from "../../src/server/db-roles";
import { makePrincipal } from "../../src/shared/access";
import { launchChromium } from "../helpers/chromium";
import { startTestDatabaseServer, type TestDatabaseServer, waitFor } from "../helpers/database";
import { expectAccessible, screenshots } from "../helpers/page-checks";
import { appDir, type PortalProcess, startPortal } from "../helpers/portal-process";
import {
  type ScriptedWorkerProcess,
  startScriptedWorker,
  writeScript,
} from "../helpers/scripted-worker-process";
import { startWebhookReceiver, type WebhookReceiver } from "../helpers/webhook-receiver";

const shots = path.join(appDir, "test-results", "api");
const repoRoot = path.resolve(appDir, "../..");
const PEOPLE = {
  alice: { email: "alice@example.com", groups: "portal-members,team-a" },
  bob: { email: "bob@example.com", groups: "portal-members,team-b" },
  vic: { email: "vic@example.com", groups: "portal-viewers,team-a" },
};

let pg: TestDatabaseServer;
let url: string;
let db: PrismaClient;
let portal: PortalProcess;
let worker: ScriptedWorkerProcess;
let scriptFile: string;
let receiver: WebhookReceiver;
let browser: Browser;
const cleanups: Array<() => Promise<unknown>> = [];
const tokens = {
  admin: "",
  vicWrite: "",
  alice: "",
  aliceRead: "",
  aliceRevoked: "",
  vicRead: "",
  bob: "",
  rita: "",
  expired: "",
};
let webhookSecret = "";

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

async function api(
  token: string | null,
  method: "GET" | "POST",
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(`${portal.url}/api/v1${route}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: kept as text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** The answer's body, checked against the API's schema for it. */
function as<S extends z.ZodType>(schema: S, answer: Answer, status: number): z.output<S> {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  const parsed = schema.safeParse(answer.body);
  expect(parsed.success, JSON.stringify(parsed.error?.issues ?? [])).toBe(true);
  return parsed.data as z.output<S>;
}
const refusal = (answer: Answer, status: number, code: string) => {
  const body = as(errorSchema, answer, status);
  expect(body.code).toBe(code);
  return body;
};

/** Polls an operation until it is in one of `statuses`. */
async function operationReaches(token: string, env: string, id: string, statuses: string[]) {
  return await waitFor(
    `operation ${id} to be ${statuses.join(" or ")}`,
    async () => {
      const op = as(operationSchema, await api(token, "GET", `/environments/${env}/operations/${id}`), 200);
      return statuses.includes(op.status) ? op : null;
    },
    30_000,
    300,
  );
}

function bootstrapToken(args: string[]): Promise<{ token: string; role: string; scope: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "npm",
      ["run", "-s", "token:create", "-w", "@platform/portal", "--", ...args, "--json"],
      {
        cwd: repoRoot,
        env: { ...process.env, DATABASE_URL: url, DATA_DIR: pg.dir },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`exit ${code}: ${err}`)),
    );
  });
}

async function pageAs(who: keyof typeof PEOPLE): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 1366, height: 900 },
    reducedMotion: "reduce",
    extraHTTPHeaders: { "x-forwarded-email": PEOPLE[who].email, "x-forwarded-groups": PEOPLE[who].groups },
  });
  cleanups.push(() => context.close());
  return await context.newPage();
}

/** Creates a token on the Tokens page and reads it from the "shown once" box. */
async function tokenFromPage(page: Page, name: string, scope: "read" | "write"): Promise<string> {
  await page.goto(`${portal.url}/tokens`);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel(scope === "read" ? /^Read: list/ : /^Read and write/).check();
  await page.getByRole("button", { name: "Create token" }).click();
  const box = page.getByLabel("Token", { exact: true });
  await expect.poll(() => box.inputValue().catch(() => ""), { timeout: 15_000 }).toMatch(/^envp_/);
  return await box.inputValue();
}

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  pg = await startTestDatabaseServer();
  cleanups.push(() => pg.stop());
  url = await pg.fresh();
  db = createDbClient(url, { poolSize: 4 });
  cleanups.push(() => db.$disconnect());
  const webPassword = randomUUID();
  await ensureLoginRole(url, "portal_web", webPassword);
  receiver = await startWebhookReceiver(1);
  cleanups.push(() => receiver.stop());
  scriptFile = path.join(pg.dir, "script.json");
  writeScript(scriptFile, { durationMs: 400, logLines: 3 });
  worker = await startScriptedWorker({ DATABASE_URL: url, WORKER_ID: "worker-api", SCRIPT_FILE: scriptFile });
  cleanups.push(() => worker.stop());
  const dispatcher = spawn(process.execPath, ["--import", "tsx", "test/fixtures/webhook-dispatcher.ts"], {
    cwd: appDir,
    env: {
      ...process.env,
      DATABASE_URL: url,
      DATA_DIR: pg.dir,
      WEBHOOK_RETRY_SECONDS: "1",
      WEBHOOK_ATTEMPTS: "4",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let dispatcherOut = "";
  dispatcher.stdout.on("data", (d) => {
    dispatcherOut += d;
  });
  cleanups.push(async () => {
    dispatcher.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
    if (dispatcher.exitCode === null) dispatcher.kill("SIGKILL");
  });
  await waitFor("the webhook dispatcher", async () => dispatcherOut.includes("ready"), 30_000);
  portal = await startPortal({
    PORT: String(await freePort()),
    DATABASE_URL: url,
    WEB_DATABASE_URL: withCredentials(url, "portal_web", webPassword),
    PORTAL_ROLE: "web",
    AUTH_MODE: "dev",
    QUOTA_ENVIRONMENTS_PER_PERSON: "2",
    RATE_LIMIT_API_READS_PER_MINUTE: "300",
    RATE_LIMIT_ACTIONS_PER_MINUTE: "100",
  });
  cleanups.push(() => portal.stop());
  browser = await launchChromium();
  cleanups.push(() => browser.close());
}, 240_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
}, 120_000);

describe("tokens", () => {
  it("come from the bootstrap command and the Tokens page (shown once), and act as their owners", async () => {
    const admin = await bootstrapToken(["--user", "root@example.com", "--role", "admin", "--name", "ci"]);
    expect(admin).toMatchObject({ role: "admin", scope: "write" });
    tokens.admin = admin.token;
    // A viewer given a write token from the shell: its role still decides (the commands refuse it).
    tokens.vicWrite = (
      await bootstrapToken(["--user", "vic@example.com", "--role", "viewer", "--group", "team-a"])
    ).token;

    const alice = await pageAs("alice");
    tokens.alice = await tokenFromPage(alice, "pipeline", "write");
    await expect.poll(() => alice.getByTestId("new-token").textContent()).toContain("envctl login --url");
    await expectAccessible(alice);
    await screenshots(alice, shots, "01-tokens-created");
    tokens.aliceRead = await tokenFromPage(alice, "dashboard", "read");
    tokens.aliceRevoked = await tokenFromPage(alice, "old-laptop", "write");
    // Reloading forgets the secret; the list shows each token by its prefix.
    await alice.goto(`${portal.url}/tokens`);
    expect(await alice.getByTestId("new-token").count()).toBe(0);
    const rows = alice.getByTestId("token-row");
    await expect.poll(() => rows.count()).toBe(3);
    expect(await alice.content()).not.toContain(tokens.alice);
    await alice
      .getByRole("row", { name: /old-laptop/ })
      .getByRole("button", { name: "Revoke old-laptop" })
      .click();
    await expect
      .poll(() => alice.locator('[data-token-name="old-laptop"]').getAttribute("data-state"))
      .toBe("revoked");
    await screenshots(alice, shots, "02-tokens-list");

    // A viewer may only make read tokens: the write choice is disabled.
    const vic = await pageAs("vic");
    await vic.goto(`${portal.url}/tokens`);
    expect(await vic.getByLabel(/^Read and write/).isDisabled()).toBe(true);
    tokens.vicRead = await tokenFromPage(vic, "look", "read");

    const bob = await pageAs("bob");
    tokens.bob = await tokenFromPage(bob, "bob-ci", "write");
    tokens.rita = (
      await createToken(db, {
        owner: { ...makePrincipal("rita@example.com", "member"), groups: ["portal-members"] },
        name: "busy",
        scope: "read",
        expiresInDays: 1,
        createdBy: "test",
        actor: makePrincipal("rita@example.com", "member"),
      })
    ).token;
    const expired = await createToken(db, {
      owner: { ...makePrincipal("alice@example.com", "member"), groups: ["portal-members", "team-a"] },
      name: "expired",
      scope: "write",
      expiresInDays: 1,
      createdBy: "test",
      actor: makePrincipal("alice@example.com", "member"),
    });
    await db.apiToken.update({
      where: { id: expired.record.id },
      data: { expiresAt: new Date(Date.now() - 60_000) },
    });
    tokens.expired = expired.token;

    const me = async (t: string) => as(meSchema, await api(t, "GET", "/me"), 200);
    expect(await me(tokens.admin)).toMatchObject({
      id: "root@example.com",
      role: "admin",
      token: { scope: "write" },
    });
    expect(await me(tokens.alice)).toMatchObject({
      role: "member",
      teams: ["team-a"],
      token: { name: "pipeline" },
    });
    expect(await me(tokens.aliceRead)).toMatchObject({ role: "member", token: { scope: "read" } });
    expect(await me(tokens.vicWrite)).toMatchObject({ role: "viewer", token: { scope: "write" } });
    expect((await me(tokens.alice)).limits).toMatchObject({
      frontendReplicas: { min: 1, max: 10 },
      ttlRequired: true,
    });
  });

  it("are required, and expired, revoked, unknown and mistyped ones are refused (401) and audited", async () => {
    const none = await api(null, "GET", "/environments");
    refusal(none, 401, "unauthenticated");
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    // The pages' identity (dev mode's header) is not accepted by the API: only tokens are.
    refusal(
      await api(null, "GET", "/environments", undefined, { "x-forwarded-email": "root@example.com" }),
      401,
      "unauthenticated",
    );
    expect(refusal(await api(tokens.expired, "GET", "/me"), 401, "unauthenticated").message).toMatch(
      /expired/,
    );
    expect(refusal(await api(tokens.aliceRevoked, "GET", "/me"), 401, "unauthenticated").message).toMatch(
      /revoked/,
    );
    refusal(await api(`${tokens.alice.slice(0, -1)}x`, "GET", "/me"), 401, "unauthenticated");
    refusal(await api("envp_000000000000000000000000000000000000", "GET", "/me"), 401, "unauthenticated");
    const refused = await db.auditEvent.findMany({ where: { action: "token-refused" } });
    expect(
      refused
        .filter((e) => e.actor === "alice@example.com")
        .map((e) => (e.details as { code: string }).code)
        .sort(),
    ).toEqual(["expired", "revoked"]);
  });
});

describe("webhooks", () => {
  it("are added on the Webhooks page by a team's member, with the signing secret shown once", async () => {
    const alice = await pageAs("alice");
    await alice.goto(`${portal.url}/webhooks`);
    // An address the worker must never call is refused, with the reason.
    await alice.getByLabel("URL").fill("http://169.254.169.254/latest/meta-data");
    await alice.getByRole("button", { name: "Add webhook" }).click();
    await expect.poll(() => alice.getByTestId("webhook-message").textContent()).toMatch(/https/);
    await alice.getByLabel("URL").fill(receiver.url);
    await alice.getByLabel("Description (optional)").fill("PR bot");
    await alice.getByRole("button", { name: "Add webhook" }).click();
    const secret = alice.getByLabel(/Signing secret/);
    await expect.poll(() => secret.inputValue().catch(() => ""), { timeout: 15_000 }).toMatch(/^whsec_/);
    webhookSecret = await secret.inputValue();
    await alice.getByRole("button", { name: "Send test delivery" }).click();
    await waitFor("the test delivery", async () =>
      receiver.received.some((r) => r.headers["x-portal-event"] === "ping"),
    );
    // Bob (team-b) neither sees nor can add team-a's webhooks; the team select offers only his teams.
    const bob = await pageAs("bob");
    await bob.goto(`${portal.url}/webhooks`);
    expect(await bob.getByTestId("webhook").count()).toBe(0);
    expect(await bob.getByLabel("Environments of").locator("option").allTextContents()).toEqual([
      "team team-b",
    ]);
    const vic = await pageAs("vic");
    await vic.goto(`${portal.url}/webhooks`);
    await expect
      .poll(() => vic.getByRole("alert").filter({ hasText: "viewer" }).textContent())
      .toMatch(/cannot manage webhooks/);
  });
});

describe("the API", () => {
  it("serves its OpenAPI document without a token, valid", async () => {
    const doc = await api(null, "GET", "/openapi.json");
    expect(doc.status).toBe(200);
    expect((await validate(doc.body as never)).valid).toBe(true);
    expect(Object.keys((doc.body as { paths: object }).paths)).toContain("/environments/{name}/scale");
    refusal(await api(tokens.admin, "GET", "/no/such/thing"), 404, "not-found");
  });

  it("creates with the create form's validation, quotas and idempotency", async () => {
    const body = {
      name: "pr-1",
      target: "local",
      frontendReplicas: 2,
      redisReplicas: 1,
      ttlHours: 4,
      team: "team-a",
    };
    // Bad input: each field named; malformed bodies and content types.
    const invalid = refusal(
      await api(tokens.alice, "POST", "/environments", {
        ...body,
        name: "Bad_Name",
        frontendReplicas: 99,
        extra: 1,
      }),
      422,
      "invalid",
    );
    expect(Object.keys(invalid.fields ?? {})).toEqual(
      expect.arrayContaining(["name", "frontendReplicas", "extra"]),
    );
    refusal(await api(tokens.alice, "POST", "/environments", "{not json"), 400, "bad-request");
    refusal(
      await api(tokens.alice, "POST", "/environments", "name=pr-1", {
        "content-type": "application/x-www-form-urlencoded",
      }),
      415,
      "unsupported-media-type",
    );
    refusal(await api(tokens.alice, "POST", "/environments", [body]), 422, "invalid");
    refusal(
      await api(tokens.alice, "POST", "/environments", { ...body, idempotencyKey: randomUUID() }),
      422,
      "invalid",
    );
    refusal(
      await api(tokens.alice, "POST", "/environments", body, { "idempotency-key": "" }),
      400,
      "bad-request",
    );
    // Members must set a time-to-live (a quota: 403 with the field), and may only use their own teams.
    expect(
      refusal(
        await api(tokens.alice, "POST", "/environments", { ...body, ttlHours: undefined }),
        403,
        "quota",
      ).field,
    ).toBe("ttlHours");
    expect(
      refusal(await api(tokens.alice, "POST", "/environments", { ...body, team: "team-b" }), 403, "forbidden")
        .field,
    ).toBe("team");
    // Scope and role.
    refusal(await api(tokens.aliceRead, "POST", "/environments", body), 403, "insufficient-scope");
    expect(
      refusal(await api(tokens.vicWrite, "POST", "/environments", body), 403, "forbidden").message,
    ).toMatch(/viewer/);

    const key = randomUUID();
    const created = await api(tokens.alice, "POST", "/environments", body, { "idempotency-key": key });
    const answer = as(commandAnswerSchema, created, 202);
    expect(answer.environment).toMatchObject({
      name: "pr-1",
      owner: "alice@example.com",
      team: "team-a",
      // The answer shows the environment as it is now: a worker woken at once may already be running it.
      status: expect.stringMatching(/^(queued|provisioning)$/),
    });
    expect(answer.operation).toMatchObject({
      kind: "create",
      status: expect.stringMatching(/^(queued|running)$/),
      frontendReplicas: 2,
    });
    expect(created.headers.get("location")).toBe(answer.operation?.links.self);
    // The same key and body: the first answer again, nothing done twice.
    const replay = await api(tokens.alice, "POST", "/environments", body, { "idempotency-key": key });
    expect(as(commandAnswerSchema, replay, 202).operation?.id).toBe(answer.operation?.id);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    // The same key with another body: refused, nothing created.
    refusal(
      await api(tokens.alice, "POST", "/environments", { ...body, name: "pr-9" }, { "idempotency-key": key }),
      422,
      "idempotency-key-reused",
    );
    // Keys are per person: bob's identical key is a request of his own.
    refusal(
      await api(tokens.bob, "POST", "/environments", { ...body, team: "team-b" }, { "idempotency-key": key }),
      409,
      "conflict",
    );
    expect(await db.environment.count({ where: { name: { in: ["pr-1", "pr-9"] } } })).toBe(1);

    await operationReaches(tokens.alice, "pr-1", answer.operation?.id as string, ["succeeded"]);
    const ready = as(environmentSchema, await api(tokens.bob, "GET", "/environments/pr-1"), 200);
    expect(ready).toMatchObject({ status: "ready", frontendReplicas: { desired: 2, current: 2 } });
    expect(ready.frontendUrl).toMatch(/^http/);

    // A taken name is a conflict on the field; the person quota (2) counts live environments.
    expect(refusal(await api(tokens.alice, "POST", "/environments", body), 409, "conflict").field).toBe(
      "name",
    );
    as(commandAnswerSchema, await api(tokens.alice, "POST", "/environments", { ...body, name: "pr-2" }), 202);
    expect(
      refusal(await api(tokens.alice, "POST", "/environments", { ...body, name: "pr-3" }), 403, "quota")
        .message,
    ).toMatch(/at most 2 per person/);
  });

  it("lists and reads for every role, with strict query parameters", async () => {
    for (const t of [tokens.admin, tokens.vicRead, tokens.bob]) {
      const list = as(environmentListSchema, await api(t, "GET", "/environments"), 200);
      expect(list.items.map((e) => e.name).sort()).toEqual(["pr-1", "pr-2"]);
    }
    expect(
      as(environmentListSchema, await api(tokens.bob, "GET", "/environments?mine=true"), 200).items,
    ).toEqual([]);
    expect(
      as(
        environmentListSchema,
        await api(tokens.alice, "GET", "/environments?status=ready&mine=1"),
        200,
      ).items.map((e) => e.name),
    ).toContain("pr-1");
    refusal(await api(tokens.alice, "GET", "/environments?status=bogus"), 422, "invalid");
    refusal(await api(tokens.alice, "GET", "/environments?page=0"), 422, "invalid");
    refusal(await api(tokens.alice, "GET", "/environments?color=red"), 422, "invalid");
    refusal(await api(tokens.alice, "GET", "/environments/no-such-env"), 404, "not-found");
    refusal(await api(tokens.alice, "GET", "/environments/NOT_A_NAME"), 404, "not-found");
  });

  it("scales (and previews) under the same ownership rules as the pages", async () => {
    // Another team's member, a read-only token and a viewer are refused; nothing is recorded.
    const before = await db.operation.count();
    expect(
      refusal(
        await api(tokens.bob, "POST", "/environments/pr-1/scale", { frontendReplicas: 3, redisReplicas: 1 }),
        403,
        "forbidden",
      ).message,
    ).toMatch(/team team-a/);
    refusal(
      await api(tokens.aliceRead, "POST", "/environments/pr-1/scale", {
        frontendReplicas: 3,
        redisReplicas: 1,
      }),
      403,
      "insufficient-scope",
    );
    refusal(
      await api(tokens.vicWrite, "POST", "/environments/pr-1/scale", {
        frontendReplicas: 3,
        redisReplicas: 1,
      }),
      403,
      "forbidden",
    );
    refusal(
      await api(tokens.alice, "POST", "/environments/pr-1/scale", { frontendReplicas: 0, redisReplicas: 1 }),
      422,
      "invalid",
    );
    refusal(
      await api(tokens.alice, "POST", "/environments/pr-1/scale", { frontendReplicas: 9, redisReplicas: 5 }),
      403,
      "quota",
    );
    refusal(
      await api(tokens.alice, "POST", "/environments/nope-env/scale", {
        frontendReplicas: 3,
        redisReplicas: 1,
      }),
      404,
      "not-found",
    );
    refusal(
      await api(tokens.alice, "POST", "/environments/pr-1/scale", { frontendReplicas: 2, redisReplicas: 1 }),
      409,
      "refused",
    );
    expect(await db.operation.count()).toBe(before);

    const preview = as(
      commandAnswerSchema,
      await api(tokens.alice, "POST", "/environments/pr-1/scale", {
        frontendReplicas: 3,
        redisReplicas: 1,
        preview: true,
      }),
      202,
    );
    expect(preview.operation?.kind).toBe("preview");
    const previewed = await operationReaches(tokens.alice, "pr-1", preview.operation?.id as string, [
      "succeeded",
    ]);
    expect(previewed.changes).toEqual({ create: 4 });
    expect(
      as(environmentSchema, await api(tokens.alice, "GET", "/environments/pr-1"), 200).frontendReplicas
        .desired,
    ).toBe(2);

    // An admin may scale anyone's environment.
    const scaled = as(
      commandAnswerSchema,
      await api(tokens.admin, "POST", "/environments/pr-1/scale", { frontendReplicas: 3, redisReplicas: 2 }),
      202,
    );
    await operationReaches(tokens.admin, "pr-1", scaled.operation?.id as string, ["succeeded"]);
    expect(as(environmentSchema, await api(tokens.alice, "GET", "/environments/pr-1"), 200)).toMatchObject({
      frontendReplicas: { desired: 3, current: 3 },
      redisReplicas: { desired: 2, current: 2 },
    });
  });

  it("refreshes, cancels and retries; a busy environment refuses another operation (409)", async () => {
    writeScript(scriptFile, { durationMs: 400, logLines: 3, holdFor: ["pr-1"] });
    const refresh = as(
      commandAnswerSchema,
      await api(tokens.alice, "POST", "/environments/pr-1/refresh"),
      202,
    );
    expect(refresh.operation?.kind).toBe("refresh");
    await operationReaches(tokens.alice, "pr-1", refresh.operation?.id as string, ["running"]);
    refusal(
      await api(tokens.alice, "POST", "/environments/pr-1/scale", { frontendReplicas: 4, redisReplicas: 2 }),
      409,
      "refused",
    );
    refusal(await api(tokens.alice, "POST", "/environments/pr-1/destroy"), 409, "refused");
    refusal(await api(tokens.alice, "POST", "/environments/pr-1/retry"), 409, "refused");
    refusal(await api(tokens.bob, "POST", "/environments/pr-1/cancel"), 403, "forbidden");
    const cancel = as(
      commandAnswerSchema,
      await api(tokens.alice, "POST", "/environments/pr-1/cancel", {}),
      202,
    );
    expect(cancel.operation?.id).toBe(refresh.operation?.id);
    await operationReaches(tokens.alice, "pr-1", refresh.operation?.id as string, ["cancelled"]);
    refusal(await api(tokens.alice, "POST", "/environments/pr-1/cancel"), 409, "refused");
    writeScript(scriptFile, { durationMs: 400, logLines: 3 });
    const retry = as(commandAnswerSchema, await api(tokens.alice, "POST", "/environments/pr-1/retry"), 202);
    expect(retry.operation).toMatchObject({ kind: "refresh", retryOf: refresh.operation?.id });
    await operationReaches(tokens.alice, "pr-1", retry.operation?.id as string, ["succeeded"]);
    refusal(await api(tokens.alice, "POST", "/environments/pr-1/retry"), 409, "refused");
    // Reconcile: an up with what was asked, the drift panel's button.
    refusal(await api(tokens.bob, "POST", "/environments/pr-1/reconcile"), 403, "forbidden");
    refusal(await api(tokens.aliceRead, "POST", "/environments/pr-1/reconcile"), 403, "insufficient-scope");
    const reconcile = as(
      commandAnswerSchema,
      await api(tokens.alice, "POST", "/environments/pr-1/reconcile"),
      202,
    );
    expect(reconcile.operation?.kind).toBe("reconcile");
    await operationReaches(tokens.alice, "pr-1", reconcile.operation?.id as string, ["succeeded"]);
  });

  it("shows an environment's operations, one operation, its events as pages and as a stream", async () => {
    const history = as(
      operationListSchema,
      await api(tokens.vicRead, "GET", "/environments/pr-1/operations"),
      200,
    );
    expect(history.items.map((o) => o.kind)).toEqual([
      "reconcile",
      "refresh",
      "refresh",
      "scale",
      "preview",
      "create",
    ]);
    const create = history.items.at(-1) as z.infer<typeof operationSchema>;
    as(operationSchema, await api(tokens.vicRead, "GET", `/environments/pr-1/operations/${create.id}`), 200);
    refusal(await api(tokens.vicRead, "GET", `/environments/pr-2/operations/${create.id}`), 404, "not-found");
    refusal(await api(tokens.vicRead, "GET", "/environments/pr-1/operations/not-a-uuid"), 404, "not-found");

    const all = as(
      eventListSchema,
      await api(tokens.vicRead, "GET", `/environments/pr-1/operations/${create.id}/events`),
      200,
    );
    expect(all.operation).toEqual({ status: "succeeded", done: true });
    expect(all.items.map((e) => e.message)).toEqual(expect.arrayContaining(["line 0", "line 2"]));
    const first = as(
      eventListSchema,
      await api(tokens.vicRead, "GET", `/environments/pr-1/operations/${create.id}/events?limit=2`),
      200,
    );
    expect(first.items).toHaveLength(2);
    const rest = as(
      eventListSchema,
      await api(
        tokens.vicRead,
        "GET",
        `/environments/pr-1/operations/${create.id}/events?after=${first.next}`,
      ),
      200,
    );
    expect([...first.items, ...rest.items].map((e) => e.id)).toEqual(all.items.map((e) => e.id));
    refusal(
      await api(tokens.vicRead, "GET", `/environments/pr-1/operations/${create.id}/events?after=x`),
      422,
      "invalid",
    );

    // The stream of a finished operation: every event, then `end`, then the server closes it.
    const res = await fetch(
      `${portal.url}/api/v1/environments/pr-1/operations/${create.id}/events/stream?after=${first.next}`,
      {
        headers: { authorization: `Bearer ${tokens.vicRead}` },
      },
    );
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const text = await res.text();
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => m[1]);
    expect(ids).toEqual(rest.items.map((e) => e.id));
    expect(text).toMatch(/event: end\ndata: \{"status":"succeeded"/);
    refusal(
      await api(null, "GET", `/environments/pr-1/operations/${create.id}/events/stream`),
      401,
      "unauthenticated",
    );
  });

  it("destroys and removes; the record's history stays in the audit log", async () => {
    refusal(await api(tokens.bob, "POST", "/environments/pr-2/destroy"), 403, "forbidden");
    refusal(await api(tokens.alice, "POST", "/environments/pr-1/remove"), 409, "refused");
    const destroy = as(
      commandAnswerSchema,
      await api(
        tokens.alice,
        "POST",
        "/environments/pr-1/destroy",
        {},
        { "idempotency-key": "destroy-pr-1" },
      ),
      202,
    );
    expect(destroy.operation?.kind).toBe("destroy");
    await operationReaches(tokens.alice, "pr-1", destroy.operation?.id as string, ["succeeded"]);
    // A retried destroy (same key) gets the same answer; a new one is refused: already destroyed.
    expect(
      as(
        commandAnswerSchema,
        await api(
          tokens.alice,
          "POST",
          "/environments/pr-1/destroy",
          {},
          { "idempotency-key": "destroy-pr-1" },
        ),
        202,
      ).operation?.id,
    ).toBe(destroy.operation?.id);
    refusal(await api(tokens.alice, "POST", "/environments/pr-1/destroy"), 409, "refused");
    const removed = as(
      commandAnswerSchema,
      await api(tokens.alice, "POST", "/environments/pr-1/remove"),
      200,
    );
    expect(removed).toMatchObject({ environment: null, operation: null });
    refusal(await api(tokens.alice, "GET", "/environments/pr-1"), 404, "not-found");
    refusal(await api(tokens.alice, "POST", "/environments/pr-1/remove"), 404, "not-found");
  });

  it("limits reads per person (429 with Retry-After)", async () => {
    let limited: Answer | undefined;
    for (let i = 0; i < 320 && !limited; i++) {
      const a = await api(tokens.rita, "GET", "/me");
      if (a.status !== 200) limited = a;
    }
    expect(limited).toBeDefined();
    refusal(limited as Answer, 429, "rate-limited");
    expect(Number(limited?.headers.get("retry-after"))).toBeGreaterThan(0);
    // Others are not affected.
    expect((await api(tokens.alice, "GET", "/me")).status).toBe(200);
  });

  it("audits every use: writes with the token, refusals, and reads once per token per interval", async () => {
    const alices = await db.auditEvent.findMany({
      where: { actor: "alice@example.com" },
      orderBy: { id: "asc" },
    });
    const viaToken = (e: (typeof alices)[number]) => (e.details as { via?: string } | null)?.via === "token";
    expect(
      alices.filter((e) => e.action === "create" && e.outcome === "accepted" && viaToken(e)),
    ).toHaveLength(2);
    expect(
      alices.some(
        (e) =>
          e.action === "create" &&
          e.outcome === "refused" &&
          viaToken(e) &&
          /per person/.test(e.reason ?? ""),
      ),
    ).toBe(true);
    // Writes that never reached a command (invalid, wrong scope, reused key) are audited as token-use refusals.
    const refusedUse = alices
      .filter((e) => e.action === "token-use" && e.outcome === "refused")
      .map((e) => (e.details as { code?: string }).code);
    expect(refusedUse).toEqual(
      expect.arrayContaining(["invalid", "bad-request", "unsupported-media-type", "idempotency-key-reused"]),
    );
    expect(alices.some((e) => e.action === "token-use" && /read-only/.test(e.reason ?? ""))).toBe(true);
    // Reads: many GETs with each token, one audited use per token within the hour.
    const reads = alices.filter(
      (e) =>
        e.action === "token-use" &&
        e.outcome === "accepted" &&
        (e.details as { method?: string }).method === "GET",
    );
    const perToken = new Map<string, number>();
    for (const e of reads) {
      const t = (e.details as { tokenId: string }).tokenId;
      perToken.set(t, (perToken.get(t) ?? 0) + 1);
    }
    expect([...perToken.values()]).toEqual([1, 1]);
    // The Tokens page shows the last use.
    const alice = await pageAs("alice");
    await alice.goto(`${portal.url}/tokens`);
    expect(
      await alice.locator('[data-token-name="pipeline"] [data-testid="token-last-used"]').textContent(),
    ).toMatch(/UTC/);
  });
});

describe("webhook deliveries", () => {
  it("reach the team's URL when operations finish: signed, retried after a failure, logged on the page", async () => {
    const finished = () =>
      receiver.received.filter(
        (r) => r.headers["x-portal-event"] === "operation.finished" && r.status === 200,
      );
    // pr-1: create, preview, scale, refresh (cancelled), refresh (retry), reconcile, destroy; pr-2: create.
    await waitFor("eight operation.finished deliveries", async () => finished().length >= 8, 60_000, 250);
    for (const hit of receiver.received) {
      const check = verifyWebhookSignature({
        secret: webhookSecret,
        header: hit.headers["x-portal-signature"] as string,
        body: hit.body,
      });
      expect(check, hit.body.slice(0, 200)).toMatchObject({ ok: true });
      // A tampered body, another secret and an old timestamp are rejected by the documented verifier.
      expect(
        verifyWebhookSignature({
          secret: webhookSecret,
          header: hit.headers["x-portal-signature"] as string,
          body: hit.body.replace(/"event":"/, '"event":"x'),
        }).ok,
      ).toBe(false);
      expect(
        verifyWebhookSignature({
          secret: "whsec_wrong",
          header: hit.headers["x-portal-signature"] as string,
          body: hit.body,
        }).ok,
      ).toBe(false);
    }
    const payloads = finished().map(
      (r) =>
        JSON.parse(r.body) as { environment: { name: string }; operation: { kind: string; status: string } },
    );
    expect(payloads.map((p) => `${p.environment.name} ${p.operation.kind} ${p.operation.status}`)).toEqual(
      expect.arrayContaining([
        "pr-1 create succeeded",
        "pr-1 refresh cancelled",
        "pr-1 reconcile succeeded",
        "pr-1 destroy succeeded",
        "pr-2 create succeeded",
      ]),
    );
    // Every delivery failed once (500) and was delivered by its retry, with the same delivery id and body.
    const first = receiver.received.find(
      (r) => r.status === 500 && r.headers["x-portal-event"] === "operation.finished",
    );
    const retried = receiver.received.find(
      (r) => r.status === 200 && r.headers["x-portal-delivery"] === first?.headers["x-portal-delivery"],
    );
    expect(retried?.body).toBe(first?.body);
    expect((retried?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(500);

    const alice = await pageAs("alice");
    await alice.goto(`${portal.url}/webhooks`);
    const log = alice.getByTestId("delivery");
    await expect.poll(() => log.count()).toBeGreaterThanOrEqual(8);
    await expect
      .poll(async () => await alice.locator("[data-testid=delivery][data-status=delivered]").count())
      .toBeGreaterThanOrEqual(8);
    expect(await alice.getByTestId("delivery-log").textContent()).toMatch(/HTTP 200/);
    await expectAccessible(alice);
    await screenshots(alice, shots, "03-webhooks");
  });

  it("the API reference page renders the document", async () => {
    const alice = await pageAs("alice");
    await alice.goto(`${portal.url}/api-reference`);
    await expect.poll(() => alice.getByRole("heading", { level: 1 }).textContent()).toBe("API reference");
    expect(await alice.locator("article[id]").count()).toBeGreaterThanOrEqual(15);
    expect(await alice.locator("#createEnvironment").textContent()).toMatch(
      /frontendReplicas.*integer, 1–10/s,
    );
    await expectAccessible(alice);
    await screenshots(alice, shots, "04-api-reference");
  });
});

describe("when the database is down", () => {
  it("answers 503 unavailable in the error shape, with Retry-After", async () => {
    await worker.stop();
    await pg.server.stop();
    const down = await api(tokens.alice, "GET", "/environments");
    refusal(down, 503, "unavailable");
    expect(down.headers.get("retry-after")).toBe("5");
    refusal(await api(tokens.alice, "POST", "/environments", { name: "pr-5" }), 503, "unavailable");
  });
});
