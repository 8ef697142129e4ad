// The event mapping on engine events recorded from real runs (test/fixtures/record.cjs).
import { readFileSync } from "node:fs";
import path from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { describe, expect, it } from "vitest";
import { EngineEventMapper, LineSplitter } from "../../src/operations/events";
import type { OperationEvent } from "../../src/operations/types";

const recorded = (name: string): EngineEvent[] =>
  JSON.parse(readFileSync(path.join(__dirname, "../fixtures/recorded", name), "utf8"));

function run(name: string, estimate: number, complete = true) {
  const events: OperationEvent[] = [];
  const mapper = new EngineEventMapper(estimate, (e) => events.push(e));
  for (const e of recorded(name)) mapper.handle(e);
  if (complete) mapper.complete();
  return events;
}

const progressOf = (events: OperationEvent[]) => events.flatMap((e) => (e.type === "progress" ? [e] : []));

describe("engine events → operation events", () => {
  it("maps a create: one started and one done per resource, progress rising to 100%", () => {
    const events = run("engine-events-up-create.json", 10);
    const resources = events.flatMap((e) => (e.type === "resource" ? [e] : []));
    const started = resources.filter((e) => e.phase === "started").map((e) => e.name);
    const done = resources.filter((e) => e.phase === "done").map((e) => e.name);
    expect(new Set(started)).toEqual(new Set(done));
    expect(done).toEqual(
      expect.arrayContaining([
        "redis-0",
        "redis-1",
        "redis-writer",
        "redis-reader",
        "frontend-0",
        "frontend-1",
        "web",
      ]),
    );
    expect(resources.find((e) => e.name === "web" && e.phase === "done")).toMatchObject({
      op: "create",
      resourceType: "pulumi-nodejs:dynamic/local:HttpLoadBalancer",
      durationMs: expect.any(Number),
    });
    const progress = progressOf(events);
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i]?.done).toBeGreaterThanOrEqual(progress[i - 1]?.done ?? 0);
      expect(progress[i]?.percent).toBeLessThanOrEqual(100);
    }
    expect(progress.at(-1)).toMatchObject({ percent: 100 });
    // The SDK's debug chatter is not forwarded.
    expect(events.some((e) => e.type === "diagnostic" && e.severity === "debug")).toBe(false);
  });

  it("never reports more done than expected when the estimate is too low, and grows the expectation", () => {
    const progress = progressOf(run("engine-events-up-create.json", 2, false));
    expect(progress.every((p) => p.done <= p.expected)).toBe(true);
    expect(progress.at(-1)?.expected).toBeGreaterThan(2);
  });

  it("maps a preview (planning steps): what would be created, progress to 100%", () => {
    const events = run("engine-events-preview-scale.json", 10);
    expect(events).toContainEqual(
      expect.objectContaining({ type: "resource", phase: "done", name: "frontend-2", op: "create" }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({ type: "resource", phase: "done", name: "web", op: "update" }),
    );
    expect(progressOf(events).at(-1)).toMatchObject({ percent: 100 });
  });

  it("maps a refresh that finds a dead process: the step starts as refresh and ends as delete", () => {
    const events = run("engine-events-refresh-dead-frontend.json", 10);
    const frontend1 = events.filter((e) => e.type === "resource" && e.name === "frontend-1");
    expect(frontend1).toEqual([
      expect.objectContaining({ phase: "started", op: "refresh" }),
      expect.objectContaining({ phase: "done", op: "delete" }),
    ]);
    const progress = progressOf(events);
    // Each resource counts once although its refresh step ends with another op.
    expect(Math.max(...progress.map((p) => p.expected))).toBe(10);
  });

  it("maps a provider failure to a failed resource event and an error diagnostic with its message", () => {
    const events = run("engine-events-up-provider-failure.json", 8, false);
    expect(events).toContainEqual(
      expect.objectContaining({ type: "resource", phase: "failed", name: "frontend-0", op: "create" }),
    );
    const diag = events.find(
      (e) => e.type === "diagnostic" && e.severity === "error" && e.urn?.endsWith("frontend-0"),
    );
    expect(diag).toMatchObject({ message: expect.stringContaining("boom: cannot start") });
  });
});

describe("LineSplitter", () => {
  it("joins chunks into whole lines and strips colour codes", () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    s.push("Updating (a):\n +  pulumi:pulumi:Stack cre");
    s.push("ating \u001b[1m(0s)\u001b[0m\n\n");
    s.push("Duration: 4s");
    s.flush();
    expect(lines).toEqual(["Updating (a):", " +  pulumi:pulumi:Stack creating (0s)", "Duration: 4s"]);
  });
});
