// The start command (src/server/main.ts) on a fresh data folder: embedded PostgreSQL, migrations, web and
// worker; and again after it was killed with SIGKILL (its PostgreSQL and web server left behind).

import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig, workerConfigProblem } from "../../src/server/env";
import { waitFor } from "../helpers/database";
import { appDir, killProcessesUnder, startPortal } from "../helpers/portal-process";

const dataDir = mkdtempSync(path.join(tmpdir(), "portal-start-"));

afterAll(() => {
  killProcessesUnder(dataDir);
  rmSync(dataDir, { recursive: true, force: true });
});

function postgresPids(): number[] {
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        const cmd = readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0");
        return cmd[0]?.endsWith("/postgres") && cmd.includes(path.join(dataDir, "postgres"));
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe("the start command", () => {
  it("starts from nothing, and starts again after being killed with SIGKILL", async () => {
    const first = await startPortal({ DATA_DIR: dataDir });
    expect((await fetch(`${first.url}/api/health`)).status).toBe(200);
    expect(first.output()).toMatch(/applied migrations: \d+_init/);
    const page = await (await fetch(`${first.url}/environments/new`)).text();
    expect(page).toContain("New environment");
    const [postmaster] = postgresPids();
    expect(postmaster).toBeGreaterThan(0);

    process.kill(first.pid, "SIGKILL");
    await first.exited;
    // The web server notices its parent is gone and exits, freeing the port.
    await waitFor(
      "the orphaned web server to exit",
      async () =>
        !(await fetch(first.url).then(
          () => true,
          () => false,
        )),
      10_000,
    );

    const second = await startPortal({ DATA_DIR: dataDir });
    try {
      expect(second.output()).toMatch(/reusing the embedded PostgreSQL left running/);
      expect((await fetch(`${second.url}/api/health`)).status).toBe(200);
      expect(postgresPids()).toEqual([postmaster]);
      // A clean stop stops the PostgreSQL it adopted, as if it had started it.
      process.kill(second.pid, "SIGTERM");
      await second.exited;
      expect(postgresPids()).toEqual([]);
      expect(second.output()).toMatch(/"msg":"stopped"/);
    } finally {
      await second.stop();
    }
    // And the start after that starts its own again.
    const third = await startPortal({ DATA_DIR: dataDir });
    try {
      expect(third.output()).toMatch(/embedded PostgreSQL started/);
      expect((await fetch(`${third.url}/api/health`)).status).toBe(200);
    } finally {
      process.kill(third.pid, "SIGTERM");
      await third.exited;
      await third.stop();
    }
    expect(postgresPids()).toEqual([]);
  }, 240_000);

  it("logs JSON lines", async () => {
    // (the output of the runs above is gone; a worker-only start against nothing logs its refusal as JSON)
    const lines = await runStartCommand({
      DATABASE_URL: "postgres://nobody:secret@127.0.0.1:1/none",
      PORTAL_ROLE: "worker",
      PULUMI_CONFIG_PASSPHRASE: "set",
    });
    const json = lines.stdout
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l));
    expect(json.length).toBeGreaterThan(0);
    expect(json[0]).toMatchObject({ service: "portal", role: "start", level: expect.any(String) });
    expect(json.some((l) => l.level === "fatal" && l.msg === "failed to start")).toBe(true);
    expect(lines.stdout).not.toContain("secret");
    expect(lines.code).toBe(1);
  }, 60_000);

  it("refuses to start a worker on a shared database without PULUMI_CONFIG_PASSPHRASE", async () => {
    const result = await runStartCommand({
      DATABASE_URL: "postgres://u:p@127.0.0.1:1/portal",
      PORTAL_ROLE: "worker",
      PULUMI_CONFIG_PASSPHRASE: "",
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "PULUMI_CONFIG_PASSPHRASE must be set when DATABASE_URL is set: every worker using that database must decrypt the same stacks",
    );
    // Nor with the generated one: a worker on the embedded database keeps generating it.
    expect(workerConfigProblem(parseConfig({ DATA_DIR: "/tmp/x" }))).toBeNull();
    // A web process runs no operations: it needs no passphrase (this one then fails on the database).
    const web = await runStartCommand({
      DATABASE_URL: "postgres://u:p@127.0.0.1:1/portal",
      PORTAL_ROLE: "web",
      PULUMI_CONFIG_PASSPHRASE: "",
    });
    expect(web.code).toBe(1);
    expect(web.stderr).not.toContain("PULUMI_CONFIG_PASSPHRASE");
  }, 60_000);
});

/** Runs the start command to its end (for starts that must fail). */
async function runStartCommand(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/server/main.ts"], {
    cwd: appDir,
    env: { ...process.env, DATA_DIR: path.join(dataDir, "refused"), METRICS_PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => {
    stdout += d;
  });
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  return { code, stdout, stderr };
}
