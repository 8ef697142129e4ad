// Failures reach the caller as EnvironmentOperationError with a code and a clear message, before anything
// is changed; and the file state backend works as well as PostgreSQL.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EnvironmentSpec, OperationEvent, OperationsConfig } from "../../src/index";
import {
  alive,
  environmentProcesses,
  getText,
  leftoverWorkspaces,
  portFree,
  services,
  stopEverythingUnder,
  votingAppMain,
} from "../helpers/environment";
import { infra } from "../helpers/infra";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres";

let postgres: TestPostgres;
let tmp: string;
let base: OperationsConfig;
const spec: EnvironmentSpec = { name: "err", target: "local", frontendReplicas: 1, redisReplicas: 1 };

beforeAll(async () => {
  postgres = await startTestPostgres();
  tmp = mkdtempSync(path.join(os.tmpdir(), "infra-errors-"));
  base = {
    backendUrl: await postgres.backendUrl("errors"),
    dataDir: path.join(tmp, "data"),
    votingAppMain: votingAppMain(),
  };
});
afterAll(async () => {
  // Whatever a failed test left running.
  if (tmp) for (const data of ["data", "fdata"]) await stopEverythingUnder(path.join(tmp, data));
  await postgres?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe("operation errors", () => {
  it("rejects invalid input with invalid-input, naming the field", async () => {
    const ops = infra.createEnvironmentOperations(base);
    await expect(ops.up({ ...spec, name: "Not Valid" })).rejects.toMatchObject({
      code: "invalid-input",
      message: expect.stringContaining("name"),
    });
    await expect(ops.up({ ...spec, frontendReplicas: -1 })).rejects.toMatchObject({ code: "invalid-input" });
    expect(() => infra.createEnvironmentOperations({ ...base, backendUrl: "mysql://nope" })).toThrow(
      infra.EnvironmentOperationError,
    );
    await ops.close();
  });

  it("reports an unreachable state backend", async () => {
    const ops = infra.createEnvironmentOperations({
      ...base,
      backendUrl: base.backendUrl.replace(/:(\d+)\//, ":1/"),
    });
    await expect(ops.up(spec)).rejects.toMatchObject({
      code: "backend-unreachable",
      message: expect.stringMatching(
        /^the Pulumi state backend \(PostgreSQL at 127\.0\.0\.1:1, database errors\) is unreachable: .*ECONNREFUSED/,
      ),
    });
    await expect(ops.destroy({ name: "err", target: "local" })).rejects.toMatchObject({
      code: "backend-unreachable",
    });
    expect(leftoverWorkspaces(base.dataDir, "err")).toEqual([]);
    await ops.close();
  });

  it("reports a missing CLI and a CLI too old for the SDK", async () => {
    const empty = path.join(tmp, "no-cli");
    mkdirSync(empty, { recursive: true });
    const missing = infra.createEnvironmentOperations({ ...base, cliRoot: empty });
    await expect(missing.up(spec)).rejects.toMatchObject({
      code: "cli-missing",
      message: expect.stringContaining("npm run pulumi-cli"),
    });

    const old = path.join(tmp, "old-cli");
    mkdirSync(path.join(old, "bin"), { recursive: true });
    writeFileSync(path.join(old, "bin", "pulumi"), "#!/bin/sh\necho v3.100.0\n");
    chmodSync(path.join(old, "bin", "pulumi"), 0o755);
    const tooOld = infra.createEnvironmentOperations({ ...base, cliRoot: old });
    await expect(tooOld.up(spec)).rejects.toMatchObject({
      code: "cli-too-old",
      message: expect.stringMatching(/is version 3\.100\.0, older than 3\.248\.0 .*npm run pulumi-cli/),
    });

    // A CLI built without its version stamped prints none: unusable too.
    const unstamped = path.join(tmp, "unstamped-cli");
    mkdirSync(path.join(unstamped, "bin"), { recursive: true });
    writeFileSync(path.join(unstamped, "bin", "pulumi"), "#!/bin/sh\necho\n");
    chmodSync(path.join(unstamped, "bin", "pulumi"), 0o755);
    const noVersion = infra.createEnvironmentOperations({ ...base, cliRoot: unstamped });
    await expect(noVersion.refresh({ name: "err", target: "local" })).rejects.toMatchObject({
      code: "cli-too-old",
      message: expect.stringMatching(
        /prints no version \(a build without its version stamped\?\).*npm run pulumi-cli/,
      ),
    });
    expect(leftoverWorkspaces(base.dataDir, "err")).toEqual([]);
    await missing.close();
    await tooOld.close();
    await noVersion.close();
  });

  it("says clearly when redis-server is missing", async () => {
    const ops = infra.createEnvironmentOperations({
      ...base,
      redisServerPath: path.join(tmp, "none", "redis-server"),
    });
    await expect(ops.up(spec)).rejects.toMatchObject({
      code: "provider-error",
      message: expect.stringContaining("redis-server not found"),
    });
    await ops.close();
  });

  it("says clearly when haproxy or supervisord is missing", async () => {
    for (const [key, message] of [
      ["haproxyPath", "haproxy not found"],
      ["supervisordPath", "supervisord not found"],
    ] as const) {
      const ops = infra.createEnvironmentOperations({ ...base, [key]: path.join(tmp, "none", "bin") });
      await expect(ops.up(spec)).rejects.toMatchObject({
        code: "provider-error",
        message: expect.stringContaining(message),
      });
      await ops.close();
    }
  });

  it("reports a resource that fails to start as a provider error with its log, and cleans up after it", async () => {
    const crashing = path.join(tmp, "crash.js");
    writeFileSync(crashing, "console.error('cannot start: no config'); process.exit(3);\n");
    const ops = infra.createEnvironmentOperations({ ...base, votingAppMain: crashing });
    const events: OperationEvent[] = [];
    const failed = ops.up({ ...spec, name: "crash" }, { onEvent: (e) => events.push(e) });
    await expect(failed).rejects.toMatchObject({ code: "provider-error" });
    await expect(failed).rejects.toThrow(/frontend-0.*failed to start[\s\S]*cannot start: no config/);
    // Streamed as it happened: the resource's failed step and its error diagnostic.
    expect(events).toContainEqual(
      expect.objectContaining({ type: "resource", phase: "failed", name: "frontend-0", op: "create" }),
    );
    expect(
      events.some(
        (e) =>
          e.type === "diagnostic" && e.severity === "error" && e.message.includes("cannot start: no config"),
      ),
    ).toBe(true);
    expect(leftoverWorkspaces(base.dataDir, "crash")).toEqual([]);
    const destroyed = await ops.destroy({ name: "crash", target: "local" });
    expect(destroyed.changes.delete).toBeGreaterThan(0);
    expect(environmentProcesses(path.join(base.dataDir, "crash"))).toEqual([]);
    await ops.close();
  });

  it("stack-not-found for an environment that never existed", async () => {
    const ops = infra.createEnvironmentOperations(base);
    await expect(ops.refresh({ name: "ghost", target: "local" })).rejects.toMatchObject({
      code: "stack-not-found",
    });
    await ops.close();
  });
});

describe("file state backend", () => {
  it("refuses a stack locked from another machine, saying which lock to delete if that run is gone", async () => {
    const stateDir = path.join(tmp, "locked-state");
    const lockDir = path.join(
      stateDir,
      ".pulumi",
      "locks",
      "organization",
      "voting-environments",
      "elsewhere",
    );
    mkdirSync(lockDir, { recursive: true });
    const lockFile = path.join(lockDir, "0c1d-lock.json");
    const lock = { pid: 4242, username: "ci", hostname: "build-host-7", timestamp: "2026-11-26T08:00:00Z" };
    writeFileSync(lockFile, JSON.stringify(lock));
    const ops = infra.createEnvironmentOperations({ ...base, backendUrl: `file://${stateDir}` });
    await expect(ops.recover({ name: "elsewhere", target: "local" })).rejects.toMatchObject({
      code: "concurrent-operation",
      message: expect.stringContaining(
        `locked by ci@build-host-7 (pid 4242) since 2026-11-26T08:00:00Z; whether that run still lives cannot be told from here: if that machine's run is gone, delete the lock ${lockFile}`,
      ),
    });
    expect(existsSync(lockFile)).toBe(true);
    await ops.close();
  });

  it("creates and destroys an environment with state in files", async () => {
    const stateDir = path.join(tmp, "state");
    mkdirSync(stateDir, { recursive: true });
    const ops = infra.createEnvironmentOperations({
      ...base,
      backendUrl: `file://${stateDir}`,
      dataDir: path.join(tmp, "fdata"),
    });
    const up = await ops.up({ ...spec, name: "files" });
    expect((await getText(`${up.outputs.frontendUrl}/healthz`)).status).toBe(200);
    expect(existsSync(path.join(stateDir, ".pulumi", "stacks", "voting-environments", "files.json"))).toBe(
      true,
    );
    const records = services(path.join(tmp, "fdata", "files"));
    expect(records.length).toBe(5);
    await ops.destroy({ name: "files", target: "local" });
    for (const r of records) {
      expect(alive(r)).toBe(false);
      expect(await portFree(r.port)).toBe(true);
    }
    expect(existsSync(path.join(stateDir, ".pulumi", "stacks", "voting-environments", "files.json"))).toBe(
      false,
    );
    await ops.close();
  });
});
