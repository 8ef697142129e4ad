import { describe, expect, it } from "vitest";
import { describeDifference, type SyncInput, syncOf } from "../../src/shared/sync";

const at = (s: number) => new Date(Date.UTC(2026, 11, 1, 10, 0, s));
const base: SyncInput = {
  status: "ready",
  desiredFrontendReplicas: 2,
  desiredRedisReplicas: 2,
  currentFrontendReplicas: 2,
  currentRedisReplicas: 2,
  lastOperation: { kind: "create", status: "succeeded", finishedAt: at(10), changes: { create: 10 } },
  drift: null,
};

describe("is the environment what was asked for", () => {
  it("in sync: nothing to say, nothing offered", () => {
    expect(syncOf(base)).toEqual({ drifted: false, reasons: [] });
  });

  it("counts that differ from those asked for", () => {
    expect(syncOf({ ...base, currentFrontendReplicas: 1 })).toEqual({
      drifted: true,
      reasons: ["Frontends: 2 asked for, 1 running."],
    });
  });

  it("what the last refresh found", () => {
    const refreshed = { kind: "refresh" as const, status: "succeeded" as const, finishedAt: at(20) };
    expect(
      syncOf({ ...base, lastOperation: { ...refreshed, changes: { same: 9, delete: 1 } } }).reasons,
    ).toEqual(["The last refresh found: 1 gone."]);
    expect(syncOf({ ...base, lastOperation: { ...refreshed, changes: { same: 10 } } }).drifted).toBe(false);
  });

  it("what a drift check found, if it ran after the last operation", () => {
    const drift = {
      status: "drifted" as const,
      checkedAt: at(30),
      differences: [
        { name: "frontend-1", type: "VotingApp", op: "delete" },
        { name: "web", type: "HttpLoadBalancer", op: "update" },
      ],
      error: null,
    };
    expect(syncOf({ ...base, drift })).toEqual({
      drifted: true,
      reasons: [
        "The drift check found frontend-1 (VotingApp) is gone and web (HttpLoadBalancer) has changed.",
      ],
      lastCheck: { at: at(30), inSync: false },
    });
    // A check from before the last operation says nothing about now.
    expect(syncOf({ ...base, drift: { ...drift, checkedAt: at(5) } })).toEqual({
      drifted: false,
      reasons: [],
    });
    expect(syncOf({ ...base, drift: { ...drift, status: "in_sync", differences: [] } })).toEqual({
      drifted: false,
      reasons: [],
      lastCheck: { at: at(30), inSync: true },
    });
  });

  it("says nothing while an operation runs or the environment is not ready", () => {
    expect(syncOf({ ...base, currentFrontendReplicas: 1, status: "updating" }).drifted).toBe(false);
    expect(
      syncOf({
        ...base,
        currentFrontendReplicas: 1,
        lastOperation: { kind: "scale", status: "running", finishedAt: null, changes: null },
      }).drifted,
    ).toBe(false);
  });

  it("describes each kind of difference", () => {
    expect(describeDifference({ name: "redis-0", type: "RedisServer", op: "create" })).toBe(
      "redis-0 (RedisServer) is missing",
    );
  });
});
