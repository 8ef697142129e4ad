import { describe, expect, it } from "vitest";
import {
  changesEnvironment,
  type EnvironmentState,
  refusal,
  statusAfter,
  statusWhileRunning,
} from "../../src/shared/status";

const ready: EnvironmentState = {
  status: "ready",
  lastOperationStatus: "succeeded",
  lastOperationKind: "create",
  everStarted: true,
};

describe("which actions each state allows", () => {
  it("a ready environment can be scaled, refreshed and destroyed but not retried, cancelled or removed", () => {
    expect(refusal("scale", ready)).toBeNull();
    expect(refusal("preview", ready)).toBeNull();
    expect(refusal("refresh", ready)).toBeNull();
    expect(refusal("reconcile", ready)).toBeNull();
    expect(refusal("destroy", ready)).toBeNull();
    expect(refusal("retry", ready)).toMatch(/Only a failed/);
    expect(refusal("cancel", ready)).toMatch(/Nothing to cancel/);
    expect(refusal("remove", ready)).toMatch(/Destroy the environment before/);
  });
  it("while destroying: no scale, no second destroy, cancel allowed", () => {
    const destroying: EnvironmentState = {
      status: "destroying",
      lastOperationStatus: "running",
      lastOperationKind: "destroy",
      everStarted: true,
    };
    expect(refusal("scale", destroying)).toBe("Cannot scale while the environment is being destroyed.");
    expect(refusal("preview", destroying)).toBe("Cannot preview while the environment is being destroyed.");
    expect(refusal("destroy", destroying)).toBe("The environment is already being destroyed.");
    expect(refusal("cancel", destroying)).toBeNull();
    expect(refusal("remove", destroying)).toMatch(/still queued or running/);
  });
  it("a queued destroy also blocks scaling", () => {
    const queued: EnvironmentState = {
      ...ready,
      lastOperationStatus: "queued",
      lastOperationKind: "destroy",
    };
    expect(refusal("scale", queued)).toMatch(/being destroyed/);
  });
  it("while another operation runs, destroy asks to cancel first", () => {
    const scaling: EnvironmentState = {
      status: "updating",
      lastOperationStatus: "running",
      lastOperationKind: "scale",
      everStarted: true,
    };
    expect(refusal("destroy", scaling)).toMatch(/Cancel it first/);
    expect(refusal("scale", scaling)).toMatch(/scale operation is running/);
  });
  it("failed, interrupted and cancelled operations can be retried", () => {
    for (const s of ["failed", "interrupted", "cancelled"] as const) {
      expect(
        refusal("retry", {
          status: "failed",
          lastOperationStatus: s,
          lastOperationKind: "scale",
          everStarted: true,
        }),
      ).toBeNull();
    }
  });
  it("after a failed destroy only retry/destroy make sense", () => {
    const failedDestroy: EnvironmentState = {
      status: "failed",
      lastOperationStatus: "failed",
      lastOperationKind: "destroy",
      everStarted: true,
    };
    expect(refusal("scale", failedDestroy)).toMatch(/Retry the destroy/);
    expect(refusal("destroy", failedDestroy)).toBeNull();
  });
  it("destroyed: only remove", () => {
    const destroyed: EnvironmentState = {
      status: "destroyed",
      lastOperationStatus: "succeeded",
      lastOperationKind: "destroy",
      everStarted: true,
    };
    expect(refusal("destroy", destroyed)).toBe("The environment is already destroyed.");
    expect(refusal("scale", destroyed)).toMatch(/destroyed/);
    expect(refusal("remove", destroyed)).toBeNull();
  });
  it("a create cancelled before it started left nothing: the record can be removed", () => {
    expect(
      refusal("remove", {
        status: "failed",
        lastOperationStatus: "cancelled",
        lastOperationKind: "create",
        everStarted: false,
      }),
    ).toBeNull();
  });
});

describe("status transitions", () => {
  it("maps operation kinds and results to environment statuses", () => {
    expect(statusWhileRunning("create", true)).toBe("provisioning");
    expect(statusWhileRunning("scale", true)).toBe("provisioning");
    expect(statusWhileRunning("scale", false)).toBe("updating");
    expect(statusWhileRunning("destroy", false)).toBe("destroying");
    expect(statusAfter("create", "succeeded")).toBe("ready");
    expect(statusAfter("destroy", "succeeded")).toBe("destroyed");
    expect(statusAfter("scale", "interrupted")).toBe("failed");
  });
});

describe("reconcile and repair", () => {
  it("a reconcile waits for a running operation, and is not possible on a destroyed environment", () => {
    expect(
      refusal("reconcile", { ...ready, lastOperationStatus: "running", lastOperationKind: "scale" }),
    ).toBe("Cannot reconcile now: a scale operation is running. Wait for it or cancel it.");
    expect(refusal("reconcile", { ...ready, status: "destroyed" })).toBe("The environment is destroyed.");
  });
  it("a reconcile updates the environment; a repair (a record of the supervisor's work) changes nothing", () => {
    expect(statusWhileRunning("reconcile", false)).toBe("updating");
    expect(changesEnvironment("reconcile")).toBe(true);
    expect(changesEnvironment("repair")).toBe(false);
  });
});
