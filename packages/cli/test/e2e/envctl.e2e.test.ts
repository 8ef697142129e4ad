// envctl end to end: the built command (bin/envctl.js) against the portal started as `npm start` starts it
// (embedded PostgreSQL, the real worker and webhook dispatcher, REAL operations on the local target). A token
// from the bootstrap command (`npm run token:create`, which finds the running embedded PostgreSQL), then:
// login (config file 0600 under XDG_CONFIG_HOME), create --wait (the environment's frontend answers HTTP),
// list, get, scale --preview (nothing changes), scale --wait, logs, destroy --wait (the frontend stops
// answering), remove; bad input exits 2, refusals exit 3; ENVCTL_URL/ENVCTL_TOKEN without a login; a progress
// bar on a terminal (script(1) gives it one). A webhook for the environments' team receives each finished
// operation, signed (checked with the verifier envctl's package exports), after one failed attempt.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createDbClient } from "@platform/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWebhook } from "../../../../apps/portal/src/features/webhooks/webhooks";
import { makePrincipal } from "../../../../apps/portal/src/shared/access";
import { type PortalProcess, startPortal } from "../../../../apps/portal/test/helpers/portal-process";
import {
  startWebhookReceiver,
  type WebhookReceiver,
} from "../../../../apps/portal/test/helpers/webhook-receiver";
import { verifyWebhookSignature } from "../../src/webhook-signature";

const cliDir = path.resolve(import.meta.dirname, "../..");
const repoRoot = path.resolve(cliDir, "../..");
const bin = path.join(cliDir, "bin/envctl.js");
const NAME = "cli-e2e";

let portal: PortalProcess;
let receiver: WebhookReceiver;
let home: string;
let webhookSecret = "";
const tokens = { admin: "", viewer: "", member: "", revoked: "" };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs envctl with its own config folder (XDG_CONFIG_HOME), no ENVCTL_* unless given. */
function envctl(
  args: string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, "config") };
    delete env.ENVCTL_URL;
    delete env.ENVCTL_TOKEN;
    const child = spawn(process.execPath, [bin, ...args], { env: { ...env, ...options.env }, stdio: "pipe" });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.stdin.end(options.stdin ?? "");
    child.on("exit", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function bootstrap(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["run", "-s", "token:create", "-w", "@platform/portal", "--", ...args], {
      cwd: repoRoot,
      env: { ...process.env, DATA_DIR: portal.dataDir, DATABASE_URL: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("exit", (code) =>
      code === 0 ? resolve(out.trim()) : reject(new Error(`token:create exit ${code}: ${err}`)),
    );
  });
}

/** The portal's embedded PostgreSQL as its owner (password and port from its data folder). */
function ownerUrl(): string {
  const password = readFileSync(path.join(portal.dataDir, "postgres-password"), "utf8").trim();
  const port = readFileSync(path.join(portal.dataDir, "postgres", "postmaster.pid"), "utf8").split("\n")[3];
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/portal`;
}

const answers = async (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(5000) }).then(
    (r) => r.status,
    () => 0,
  );

beforeAll(async () => {
  if (!existsSync(path.join(cliDir, "dist/cli.js"))) {
    throw new Error(
      "envctl is not built: run `npm run build -w @platform/cli` (npm test does it through turbo)",
    );
  }
  home = mkdtempSync(path.join(tmpdir(), "envctl-e2e-"));
  receiver = await startWebhookReceiver(1);
  portal = await startPortal({
    WORKER_CONCURRENCY: "2",
    WEBHOOK_RETRY_SECONDS: "1",
    QUOTA_ENVIRONMENTS_PER_PERSON: "3",
  });
  tokens.admin = await bootstrap([
    "--user",
    "root@example.com",
    "--role",
    "admin",
    "--group",
    "team-a",
    "--name",
    "ci",
  ]);
  tokens.viewer = await bootstrap(["--user", "vic@example.com", "--role", "viewer", "--scope", "read"]);
  tokens.member = await bootstrap(["--user", "mia@example.com", "--role", "member", "--group", "team-a"]);
  tokens.revoked = await bootstrap(["--user", "old@example.com", "--role", "admin"]);
  const db = createDbClient(ownerUrl(), { poolSize: 1 });
  try {
    await db.apiToken.updateMany({
      where: { owner: "old@example.com" },
      data: { revokedAt: new Date(), revokedBy: "test" },
    });
    const hook = await createWebhook(
      db,
      { principal: makePrincipal("root@example.com", "admin") },
      { team: "team-a", url: receiver.url },
      { allowLoopback: true, privateHosts: [] },
    );
    webhookSecret = hook.ok ? (hook.secret as string) : "";
  } finally {
    await db.$disconnect();
  }
}, 300_000);

afterAll(async () => {
  await portal?.stop();
  await receiver?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
}, 120_000);

describe("envctl against the portal and the local target", () => {
  it("logs in with a token read from stdin, storing it 0600 under XDG_CONFIG_HOME", async () => {
    expect((await envctl(["list"])).code).toBe(2); // not logged in: bad input
    const bad = await envctl(["login", "--url", portal.url, "--token", "-"], {
      stdin: "envp_000000000000000000000000000000000000\n",
    });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/not valid/);
    const login = await envctl(["login", "--url", portal.url, "--token", "-"], {
      stdin: `${tokens.admin}\n`,
    });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toMatch(/Logged in to .* as root@example.com \(admin, teams team-a\)/);
    const file = path.join(home, "config", "envctl", "config.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ url: portal.url, token: tokens.admin });
    const who = await envctl(["whoami", "--json"]);
    expect(JSON.parse(who.stdout)).toMatchObject({
      id: "root@example.com",
      role: "admin",
      token: { name: "ci" },
    });
  });

  it("creates and waits: plain progress lines off a terminal, and the frontend answers", async () => {
    const run = await envctl([
      "create",
      NAME,
      "--frontends",
      "2",
      "--redis",
      "1",
      "--ttl",
      "2",
      "--team",
      "team-a",
      "--cache",
      "redis",
      "--wait",
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/create started/);
    expect(run.stderr).toMatch(new RegExp(`create ${NAME}: running \\(\\d+/\\d+ steps\\)`));
    expect(run.stderr).not.toContain("\x1b[2K"); // no terminal drawing in a pipe
    const url = /Frontend: (http\S+)/.exec(run.stdout)?.[1] as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await answers(url)).toBe(200);
    const page = await (await fetch(url)).text();
    expect(page).toMatch(/<form/);

    const list = await envctl(["list", "--json"]);
    expect(
      JSON.parse(list.stdout).map((e: { name: string; status: string }) => `${e.name} ${e.status}`),
    ).toContain(`${NAME} ready`);
    const table = await envctl(["list"]);
    expect(table.stdout).toMatch(
      new RegExp(`^${NAME}\\s+ready\\s+local\\s+2\\s+1\\s+root@example.com\\s+team-a`, "m"),
    );
    const get = JSON.parse((await envctl(["get", NAME, "--json"])).stdout);
    expect(get).toMatchObject({
      name: NAME,
      status: "ready",
      frontendUrl: url,
      frontendReplicas: { desired: 2, current: 2 },
    });
    expect(typeof get.options).toBe("object"); // the cache and database options, as created
    expect((await envctl(["get", NAME])).stdout).toMatch(/^Options:/m);
  }, 300_000);

  it("previews a scale (nothing changes), then scales with a progress bar on a terminal", async () => {
    const preview = await envctl(["scale", NAME, "--frontends", "3", "--preview"]);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toMatch(
      /Preview of cli-e2e at 3 frontends and 1 Redis nodes: .*to create.*Nothing was changed/,
    );
    expect(JSON.parse((await envctl(["get", NAME, "--json"])).stdout).frontendReplicas).toEqual({
      desired: 2,
      current: 2,
    });

    // script(1) runs envctl on a pseudo-terminal: the bar is drawn and redrawn under the log.
    const typescript = path.join(home, "typescript");
    const env = `HOME=${home} XDG_CONFIG_HOME=${path.join(home, "config")}`;
    const tty = await new Promise<number>((resolve) => {
      const child = spawn(
        "script",
        [
          "-qec",
          `stty cols 120; env ${env} ${process.execPath} ${bin} scale ${NAME} --frontends 3 --wait`,
          typescript,
        ],
        {
          stdio: "ignore",
        },
      );
      child.on("exit", (code) => resolve(code ?? -1));
    });
    const screen = readFileSync(typescript, "utf8");
    expect(tty, screen.slice(-2000)).toBe(0);
    expect(screen).toContain("\r\u001b[2Kscale cli-e2e [#");
    expect(screen.replaceAll("\u001b[2K", "")).toMatch(
      /\rscale cli-e2e \[#+-*\] \d+% \d+\/\d+ steps running/,
    );
    expect(screen).toMatch(/scale of cli-e2e succeeded/);
    expect(JSON.parse((await envctl(["get", NAME, "--json"])).stdout).frontendReplicas).toEqual({
      desired: 3,
      current: 3,
    });
  }, 300_000);

  it("prints an operation's log, and follows one as JSON lines", async () => {
    const logs = await envctl(["logs", NAME]);
    expect(logs.code).toBe(0);
    expect(logs.stderr).toMatch(/^scale succeeded/m);
    expect(logs.stdout).toMatch(/scale succeeded in/);
    const follow = await envctl(["logs", NAME, "--follow", "--json"]);
    expect(follow.code).toBe(0);
    const lines = follow.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { message: string });
    expect(lines.at(-1)?.message).toMatch(/scale succeeded in/);
  });

  it("exits 2 on bad input and 3 on refusals, and works from ENVCTL_URL/ENVCTL_TOKEN alone", async () => {
    const bad = async (args: string[], pattern: RegExp) => {
      const r = await envctl(args);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(pattern);
    };
    await bad(["create", "Bad_Name", "--frontends", "1", "--redis", "1"], /lower-case/);
    await bad(["create", "cli-x", "--frontends", "abc"], /whole number/);
    await bad(
      ["create", "cli-x", "--frontends", "1", "--redis", "1", "--set", "colour=blue"],
      /Unknown field “colour”/,
    );
    await bad(["destroy", NAME], /without --yes/);
    await bad(["scale", NAME], /--frontends/);
    await bad(["frobnicate"], /unknown command/);

    const refused = async (args: string[], token: string, pattern: RegExp) => {
      const r = await envctl(args, { env: { ENVCTL_URL: portal.url, ENVCTL_TOKEN: token } });
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toMatch(pattern);
    };
    await refused(["create", "cli-v", "--frontends", "1", "--redis", "1"], tokens.viewer, /read-only/);
    await refused(["create", "cli-m", "--frontends", "1", "--redis", "1"], tokens.member, /time to live/);
    await refused(["scale", NAME, "--frontends", "3", "--redis", "1"], tokens.admin, /Nothing to change/);
    await refused(["get", "no-such-env"], tokens.admin, /no environment named/);
    await refused(["list"], tokens.revoked, /revoked/);
    const json = await envctl(["destroy", "no-such-env", "--yes", "--json"], {
      env: { ENVCTL_URL: portal.url, ENVCTL_TOKEN: tokens.admin },
    });
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: "not-found" } });

    // A pipeline: no login, only the environment variables (a read token lists).
    const pipeline = await envctl(["list", "--json"], {
      env: { ENVCTL_URL: portal.url, ENVCTL_TOKEN: tokens.viewer, XDG_CONFIG_HOME: path.join(home, "empty") },
    });
    expect(pipeline.code, pipeline.stderr).toBe(0);
    expect(JSON.parse(pipeline.stdout).map((e: { name: string }) => e.name)).toContain(NAME);
  });

  it("destroys and waits (the frontend stops answering), then removes the record", async () => {
    const url = JSON.parse((await envctl(["get", NAME, "--json"])).stdout).frontendUrl as string;
    const run = await envctl(["destroy", NAME, "--yes", "--wait"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/destroy of cli-e2e succeeded\. Status: destroyed/);
    expect(await answers(url)).toBe(0);
    expect((await envctl(["destroy", NAME, "--yes"])).code).toBe(3); // already destroyed
    expect((await envctl(["remove", NAME])).code).toBe(0);
    const gone = await envctl(["destroy", NAME, "--yes", "--missing-ok"]);
    expect(gone.code).toBe(0);
    expect(gone.stdout).toMatch(/nothing to destroy/);
  }, 300_000);

  it("delivered a signed webhook for every finished operation of the team's environment", async () => {
    const delivered = () =>
      receiver.received.filter(
        (r) => r.status === 200 && r.headers["x-portal-event"] === "operation.finished",
      );
    const deadline = Date.now() + 30_000;
    while (delivered().length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    const events = delivered().map(
      (r) =>
        JSON.parse(r.body) as { environment: { name: string }; operation: { kind: string; status: string } },
    );
    expect(events.map((e) => `${e.environment.name} ${e.operation.kind} ${e.operation.status}`)).toEqual(
      expect.arrayContaining([
        `${NAME} create succeeded`,
        `${NAME} preview succeeded`,
        `${NAME} scale succeeded`,
        `${NAME} destroy succeeded`,
      ]),
    );
    for (const hit of receiver.received) {
      const header = hit.headers["x-portal-signature"] as string;
      expect(verifyWebhookSignature({ secret: webhookSecret, header, body: hit.body }).ok).toBe(true);
      expect(verifyWebhookSignature({ secret: webhookSecret, header, body: `${hit.body} ` }).ok).toBe(false);
    }
    // Each was refused once (500) by the receiver and delivered by a retry.
    expect(receiver.received.filter((r) => r.status === 500).length).toBe(delivered().length);
  });
});
