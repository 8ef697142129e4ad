// Database rows as the API shows them (schemas.ts). Links are paths on the portal.
import type { Environment, Operation, OperationEvent } from "@platform/db/client";
import type { ApiEnvironment, ApiEvent, ApiOperation } from "./schemas";

export const API_BASE = "/api/v1";

const enc = encodeURIComponent;
export const environmentPath = (name: string) => `${API_BASE}/environments/${enc(name)}`;
export const operationPath = (name: string, id: string) => `${environmentPath(name)}/operations/${id}`;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

type OperationRow = Pick<
  Operation,
  | "id"
  | "kind"
  | "status"
  | "requestedBy"
  | "requestedConfig"
  | "createdAt"
  | "startedAt"
  | "finishedAt"
  | "progressDone"
  | "progressExpected"
  | "errorCode"
  | "error"
  | "changes"
  | "retryOfId"
>;

export function presentOperation(environment: string, op: OperationRow): ApiOperation {
  const spec = (op.requestedConfig ?? {}) as { frontendReplicas?: number; redisReplicas?: number };
  const self = operationPath(environment, op.id);
  return {
    id: op.id,
    environment,
    kind: op.kind,
    status: op.status,
    requestedBy: op.requestedBy,
    createdAt: op.createdAt.toISOString(),
    startedAt: iso(op.startedAt),
    finishedAt: iso(op.finishedAt),
    progress: { done: op.progressDone, expected: op.progressExpected },
    error: op.error ? { code: op.errorCode, message: op.error } : null,
    retryOf: op.retryOfId,
    frontendReplicas: spec.frontendReplicas ?? 0,
    redisReplicas: spec.redisReplicas ?? 0,
    changes: (op.changes as Record<string, number> | null) ?? null,
    links: { self, events: `${self}/events`, stream: `${self}/events/stream` },
  };
}

type EnvironmentRow = Pick<
  Environment,
  | "name"
  | "target"
  | "region"
  | "status"
  | "owner"
  | "team"
  | "desiredFrontendReplicas"
  | "desiredRedisReplicas"
  | "currentFrontendReplicas"
  | "currentRedisReplicas"
  | "outputs"
  | "createdAt"
  | "expiresAt"
> & { allowVoteReset?: boolean; options?: unknown; lastOperation: OperationRow | null };

export function presentEnvironment(env: EnvironmentRow): ApiEnvironment {
  const outputs = (env.outputs as Record<string, unknown> | null) ?? null;
  const frontendUrl = typeof outputs?.frontendUrl === "string" ? outputs.frontendUrl : null;
  const self = environmentPath(env.name);
  return {
    name: env.name,
    target: env.target,
    region: env.region,
    status: env.status,
    owner: env.owner,
    team: env.team,
    frontendReplicas: { desired: env.desiredFrontendReplicas, current: env.currentFrontendReplicas },
    redisReplicas: { desired: env.desiredRedisReplicas, current: env.currentRedisReplicas },
    frontendUrl,
    outputs,
    options: (env.options as Record<string, unknown> | null | undefined) ?? {},
    allowVoteReset: env.allowVoteReset ?? false,
    createdAt: env.createdAt.toISOString(),
    expiresAt: iso(env.expiresAt),
    lastOperation: env.lastOperation ? presentOperation(env.name, env.lastOperation) : null,
    links: { self, operations: `${self}/operations`, page: `/environments/${enc(env.name)}` },
  };
}

export const presentEvent = (
  e: Pick<OperationEvent, "id" | "type" | "severity" | "message" | "createdAt">,
): ApiEvent => ({
  id: e.id.toString(),
  type: e.type,
  severity: e.severity,
  message: e.message,
  at: e.createdAt.toISOString(),
});
