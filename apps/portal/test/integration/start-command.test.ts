// The start command (src/server/main.ts) on a fresh data folder: embedded PostgreSQL, migrations, web and
// worker; and again after it was killed with SIGKILL (its PostgreSQL and web server left behind).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/database";
import { killProcessesUnder, startPortal } from "../helpers/portal-process";

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
    } finally {
      await second.stop();
    }
    expect(postgresPids()).toEqual([]);
  }, 180_000);
});
