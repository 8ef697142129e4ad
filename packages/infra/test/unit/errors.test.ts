// Error classification on errors recorded from the real CLI (test/fixtures/record.cjs).
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { classifyError, EnvironmentOperationError, parseDiagnostics } from "../../src/operations/errors";

/** A recorded error, rebuilt with the same name, message and command result as the Automation API's. */
function recorded(name: string): Error {
  const shape = JSON.parse(readFileSync(path.join(__dirname, "../fixtures/recorded", name), "utf8"));
  return Object.assign(new Error(shape.message), { name: shape.name, commandResult: shape.commandResult });
}

const classify = (name: string) => classifyError(recorded(name), { environment: "env1" });

describe("classifyError", () => {
  it("a stack locked by another process is a concurrent operation, naming the owner", () => {
    const e = classify("error-locked.json");
    expect(e.code).toBe("concurrent-operation");
    expect(e.message).toContain("ci@other-host");
  });

  it("a missing stack", () => {
    expect(classify("error-stack-not-found.json").code).toBe("stack-not-found");
  });

  it("an unreachable state database, without leaking its credentials", () => {
    const e = classify("error-backend-unreachable.json");
    expect(e.code).toBe("backend-unreachable");
    expect(e.message).toContain("connection refused");
    expect(e.message).not.toMatch(/postgres:postgres/);
  });

  it("a resource whose provider failed names the resource and carries its log tail", () => {
    const e = classify("error-provider.json");
    expect(e.code).toBe("provider-error");
    expect(e.message).toContain("frontend-0: frontend-0 (app) failed to start: exited during start");
    expect(e.message).toContain("boom: cannot start");
    expect(e.detail).toContain("Diagnostics:");
  });

  it("a program that throws", () => {
    const e = classify("error-program.json");
    expect(e.code).toBe("program-error");
    expect(e.message).toContain("the program is broken");
  });

  it("a missing or unversioned CLI", () => {
    const missing = Object.assign(new Error("spawn /opt/none/bin/pulumi ENOENT"), { name: "CommandError" });
    expect(classifyError(missing, { environment: "x" }).code).toBe("cli-missing");
    const old = new Error(
      "Minimum version requirement failed. The minimum CLI version requirement is 3.207.0, your current CLI version is 3.100.0. Please update the Pulumi CLI.",
    );
    expect(classifyError(old, { environment: "x" }).code).toBe("cli-too-old");
  });

  it("anything after an abort is a cancellation; our own errors pass through; the rest is unknown", () => {
    expect(classifyError(recorded("error-provider.json"), { environment: "x", aborted: true }).code).toBe(
      "cancelled",
    );
    const own = new EnvironmentOperationError("invalid-input", "bad");
    expect(classifyError(own, { environment: "x" })).toBe(own);
    expect(classifyError(new Error("something odd"), { environment: "x" })).toMatchObject({
      code: "unknown",
      message: "the operation on x failed: something odd",
    });
  });
});

describe("parseDiagnostics", () => {
  it("reads the CLI's Diagnostics section per resource", () => {
    const shape = JSON.parse(
      readFileSync(path.join(__dirname, "../fixtures/recorded/error-provider.json"), "utf8"),
    );
    const blocks = parseDiagnostics(shape.commandResult.stdout || shape.commandResult.stderr);
    expect(blocks.map((b) => `${b.type} ${b.name}`)).toEqual([
      "pulumi-nodejs:dynamic/local:VotingApp frontend-0",
      "pulumi:pulumi:Stack voting-environments-rec-fail",
    ]);
  });
});
