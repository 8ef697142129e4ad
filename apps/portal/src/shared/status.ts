// Environment and operation statuses, and which actions each environment status allows. Pure: used by the
// server (authority) and by pages (to show only the buttons that can work).

export const ENVIRONMENT_STATUSES = [
  "queued",
  "provisioning",
  "ready",
  "updating",
  "failed",
  "destroying",
  "destroyed",
] as const;
export type EnvironmentStatus = (typeof ENVIRONMENT_STATUSES)[number];

export const OPERATION_STATUSES = [
  "queued",
  "running",
  "succeeded",
  "failed",
  "cancelled",
  "interrupted",
] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];
/**
 * `reconcile`: an up with the counts asked for (repairs drift). `repair`: never requested nor run, recorded by
 * the worker when the local target's supervisor replaced processes by itself (history only).
 */
export type OperationKind = "create" | "scale" | "refresh" | "destroy" | "preview" | "reconcile" | "repair";

/** What a person (or the time-to-live) can request; a repair is only ever recorded. */
export type RequestableKind = Exclude<OperationKind, "repair">;

export type EnvironmentAction =
  | "scale"
  | "preview"
  | "refresh"
  | "reconcile"
  | "retry"
  | "cancel"
  | "destroy"
  | "remove";

export interface EnvironmentState {
  status: EnvironmentStatus;
  /** Status of the environment's last operation, if any. */
  lastOperationStatus?: OperationStatus | null;
  lastOperationKind?: OperationKind | null;
  /** True when some operation ever started (resources may exist). */
  everStarted?: boolean;
  /** Its time-to-live has passed: the workers destroy it, and nothing may keep it alive. */
  expired?: boolean;
}

export const EXPIRED_MESSAGE = "The time-to-live of this environment has passed: it is being destroyed.";

const ACTIVE_OPERATION: ReadonlySet<OperationStatus> = new Set(["queued", "running"]);
export const isOperationActive = (s: OperationStatus | null | undefined) => !!s && ACTIVE_OPERATION.has(s);
export const isOperationFinished = (s: OperationStatus) => !ACTIVE_OPERATION.has(s);

/** Why `action` cannot run now, or null when it can. The message is shown to the person as is. */
export function refusal(action: EnvironmentAction, env: EnvironmentState): string | null {
  const busy = isOperationActive(env.lastOperationStatus);
  const kind = env.lastOperationKind ?? "operation";
  switch (action) {
    case "cancel":
      return busy ? null : "Nothing to cancel: no operation is queued or running.";
    case "retry":
      if (busy) return `A ${kind} operation is already ${env.lastOperationStatus}.`;
      if (env.status === "destroyed") return "The environment is destroyed; nothing to retry.";
      if (env.expired && env.lastOperationKind !== "destroy") return EXPIRED_MESSAGE;
      return env.lastOperationStatus === "failed" ||
        env.lastOperationStatus === "interrupted" ||
        env.lastOperationStatus === "cancelled"
        ? null
        : "Only a failed, cancelled or interrupted operation can be retried.";
    case "scale":
    case "preview":
    case "refresh":
    case "reconcile":
      if (env.status === "destroyed") return "The environment is destroyed.";
      if (env.expired) return EXPIRED_MESSAGE;
      if (busy || env.status === "destroying") {
        return env.status === "destroying" || kind === "destroy"
          ? `Cannot ${action} while the environment is being destroyed.`
          : `Cannot ${action} now: a ${kind} operation is ${env.lastOperationStatus}. Wait for it or cancel it.`;
      }
      if (env.lastOperationKind === "destroy" && env.status === "failed") {
        return `Cannot ${action}: the last destroy failed. Retry the destroy first.`;
      }
      return null;
    case "destroy":
      if (env.status === "destroyed") return "The environment is already destroyed.";
      if (kind === "destroy" && busy) return "The environment is already being destroyed.";
      if (busy) return `A ${kind} operation is ${env.lastOperationStatus}. Cancel it first, then destroy.`;
      return null;
    case "remove":
      if (busy) return "An operation is still queued or running.";
      if (env.status === "destroyed" || !env.everStarted) return null;
      return "Destroy the environment before removing its record.";
  }
}

/**
 * Operations that change the environment (a preview only reports what a scale would change; a repair is a
 * record of what the supervisor did, never run).
 */
export const changesEnvironment = (kind: OperationKind) => kind !== "preview" && kind !== "repair";

/** Environment status while an operation of `kind` runs (not called for previews). */
export function statusWhileRunning(kind: OperationKind, firstProvisioning: boolean): EnvironmentStatus {
  if (kind === "destroy") return "destroying";
  if (kind === "create" || firstProvisioning) return "provisioning";
  return "updating";
}

/** Environment status after an operation of `kind` ended with `result`. */
export function statusAfter(kind: OperationKind, result: OperationStatus): EnvironmentStatus {
  if (result === "succeeded") return kind === "destroy" ? "destroyed" : "ready";
  return "failed";
}

export const STATUS_LABEL: Record<EnvironmentStatus | OperationStatus, string> = {
  queued: "Queued",
  provisioning: "Provisioning",
  ready: "Ready",
  updating: "Updating",
  failed: "Failed",
  destroying: "Destroying",
  destroyed: "Destroyed",
  running: "Running",
  succeeded: "Succeeded",
  cancelled: "Cancelled",
  interrupted: "Interrupted",
};
