// The contract between the environment operations (this package) and their callers (the portal's worker).
// Owned by packages/infra; changes here must stay compatible with apps/portal.
import type { CacheOptions, DatabaseOptions } from "../spec";

export type { CacheOptions, DatabaseOptions };

import type { Repair, RepairCursor } from "../local/self-healing";

export type Target = "local" | "aws";
export type OperationKind = "up" | "preview" | "refresh" | "destroy";

/** What one environment should look like. Validated by `environmentSpecSchema` before any Pulumi run. */
export interface EnvironmentSpec {
  /** DNS-safe, also the Pulumi stack name. */
  name: string;
  target: Target;
  frontendReplicas: number;
  redisReplicas: number;
  /** Recorded as a tag (aws) and in the stack config. */
  owner?: string;
  /** The cache tier: Redis on Fargate (absent, or kind "redis") or ElastiCache. `redisReplicas` counts its nodes. */
  cache?: CacheOptions;
  /** The database tier: absent = none; PostgreSQL keeps every vote (RDS on AWS, a local server locally). */
  database?: DatabaseOptions;
  aws?: AwsTargetOptions;
  local?: LocalTargetOptions;
  /** Options of the voting app itself, on both targets. */
  app?: AppOptions;
}

export interface AppOptions {
  /** The app's "reset all votes" form and API (ALLOW_RESET); off unless true. */
  allowReset?: boolean;
}

export interface AwsTargetOptions {
  region: string;
  certificateArn?: string;
}

export interface LocalTargetOptions {
  /** Comma-separated options shown by the voting app. */
  voteOptions?: string;
  appTitle?: string;
}

/** Identifies an existing environment for refresh and destroy. */
export interface EnvironmentRef {
  name: string;
  target: Target;
}

/** Stack outputs, the same keys for both targets. */
export interface EnvironmentOutputs {
  frontendUrl: string;
  redisWriterEndpoint: string;
  redisReaderEndpoint?: string;
  [key: string]: unknown;
}

/** Counts of resource operations, as Pulumi's summary gives them: { create: 3, same: 5, ... }. */
export type ChangeSummary = Partial<Record<string, number>>;

export type ResourceOp = "create" | "update" | "delete" | "replace" | "same" | "read" | "refresh" | "other";

/** Streamed while an operation runs. */
export type OperationEvent =
  | {
      type: "resource";
      phase: "started" | "done" | "failed";
      urn: string;
      resourceType: string;
      name: string;
      op: ResourceOp;
      durationMs?: number;
    }
  | { type: "diagnostic"; severity: "debug" | "info" | "warning" | "error"; message: string; urn?: string }
  /** Steps done of steps expected; `expected` may grow as the engine plans more steps. */
  | { type: "progress"; done: number; expected: number; percent: number }
  | { type: "log"; line: string }
  /** Something the wrapper did by itself, e.g. cleared a stale lock left by a killed run. */
  | { type: "notice"; message: string };

export interface OperationResult {
  kind: OperationKind;
  environment: string;
  /** Empty after destroy and for preview of a new environment. */
  outputs: Partial<EnvironmentOutputs>;
  changes: ChangeSummary;
  durationMs: number;
  /**
   * Refresh only: what the refreshed state holds. The outputs are those of the last up (they say what was
   * asked); this says what exists now, e.g. 1 frontend after one was found gone.
   */
  observed?: ObservedTopology;
}

/** Replica counts as the state holds them (local: running services; aws: the services' desired counts). */
export interface ObservedTopology {
  frontendReplicas: number;
  /** Redis nodes in total: the writer plus read replicas. */
  redisReplicas: number;
}

/** One resource whose reality differs from the state. */
export interface DriftDifference {
  /** Resource name, e.g. `frontend-1`. */
  name: string;
  /** Resource type token's last part, e.g. `VotingApp`. */
  type: string;
  /** What a refresh would do to the state: `delete` (it is gone) or `update` (it changed). */
  op: ResourceOp;
  /** Changed properties, when the provider says. */
  properties?: string[];
}

/** The answer of a drift check: a refresh preview, which changes nothing. */
export interface DriftReport {
  environment: string;
  drifted: boolean;
  /** The preview's summary, e.g. { same: 8, delete: 1 }. */
  changes: ChangeSummary;
  differences: DriftDifference[];
  durationMs: number;
}

/** What a local environment's supervisor repaired by itself (see `readRepairs`). */
export type { Repair, RepairCursor };

export type OperationErrorCode =
  | "invalid-input"
  | "concurrent-operation"
  | "stack-not-found"
  | "program-error"
  | "provider-error"
  | "cli-missing"
  | "cli-too-old"
  | "backend-unreachable"
  /**
   * (not local) A killed run left resources it was creating that the state does not hold but the cloud may:
   * nothing runs until they are imported, or cleared with `recover(ref, { clearPendingCreates: true })`.
   */
  | "pending-creates"
  | "cancelled"
  | "unknown";

export interface RunOptions {
  signal?: AbortSignal;
  onEvent?: (event: OperationEvent) => void;
  /** The engine's raw events (Automation API `EngineEvent`), for debugging and recording. */
  onEngineEvent?: (event: unknown) => void;
}

export interface RecoverOptions {
  /**
   * Drop the pending creates of a cloud environment from its state: only once someone checked that those
   * resources do not exist (or imported them with `pulumi refresh --import-pending-creates`).
   */
  clearPendingCreates?: boolean;
}

/** How the operations reach their state backend and where the local target keeps its files. */
export interface OperationsConfig {
  /** Pulumi state: `postgres://user:pass@host:port/db?sslmode=disable&table=pulumi_state`, or `file://<dir>`. */
  backendUrl: string;
  /**
   * Passphrase of the passphrase secrets provider. Optional: when absent it is generated on first use and
   * kept in `<dataDir>/pulumi-passphrase` (mode 0600).
   */
  passphrase?: string;
  /** Folder for the local target's environments: their supervisor, configs, logs and data. */
  dataDir: string;
  /**
   * Folder for the Automation API's temporary workspaces (mode 0700; never a shared temp folder: they hold the
   * stack settings). Default: `<dataDir>/.workspaces`.
   */
  workspacesDir?: string;
  /** PULUMI_HOME for the CLI (plugins, credentials). Default: `<dataDir>/pulumi-home`. */
  pulumiHome?: string;
  /** Folder above `bin/pulumi`. Default: PULUMI_CLI_ROOT, else `~/.pulumi/versions/<sdk version>`, else PATH. */
  cliRoot?: string;
  /** `redis-server` binary for the local target. Default: REDIS_SERVER_PATH, else `redis-server` on PATH. */
  redisServerPath?: string;
  /** Entry point of the voting app for the local target. Default: `@platform/voting-app`'s `dist/main.js`. */
  votingAppMain?: string;
  /** `haproxy` binary (the local target's load balancers). Default: HAPROXY_PATH, else `haproxy` on PATH. */
  haproxyPath?: string;
  /**
   * `supervisord` binary (the local target's process supervisor).
   * Default: SUPERVISORD_PATH, else `supervisord` on PATH.
   */
  supervisordPath?: string;
}

/**
 * Implemented by `createEnvironmentOperations(config)` exported from `@platform/infra`.
 * Errors are thrown as `EnvironmentOperationError` (with `code: OperationErrorCode`), also exported there.
 */
export interface EnvironmentOperations {
  up(spec: EnvironmentSpec, options?: RunOptions): Promise<OperationResult>;
  preview(spec: EnvironmentSpec, options?: RunOptions): Promise<OperationResult>;
  refresh(ref: EnvironmentRef, options?: RunOptions): Promise<OperationResult>;
  /** Destroys every resource, then removes the stack. */
  destroy(ref: EnvironmentRef, options?: RunOptions): Promise<OperationResult>;
  /**
   * Clears a stale lock and pending operations left by a killed run (also done by every operation itself).
   * Pending creates of a cloud target stop it (`pending-creates`) unless `clearPendingCreates` says they
   * were checked and do not exist.
   */
  recover(ref: EnvironmentRef, options?: RecoverOptions): Promise<void>;
  /**
   * Compares the state with reality without changing either (a refresh preview: no lock, no recovery, no
   * writes), so it may run beside an operation on the same environment (its answer is then stale).
   */
  detectDrift?(ref: EnvironmentRef, options?: RunOptions): Promise<DriftReport>;
  /**
   * Whether this machine runs the environment's resources: always for aws (any machine reaches AWS); for the
   * local target only where its folder is (its processes run there).
   */
  hostsEnvironment?(ref: EnvironmentRef): boolean;
  /**
   * Local target: the repairs the environment's supervisor made by itself since `cursor` (processes that
   * exited and were started again, or given up on), and the cursor to pass next time. `undefined` when this
   * machine has no such local environment (it runs on another host, or was never created).
   */
  readRepairs?(
    ref: EnvironmentRef,
    cursor?: RepairCursor,
  ): Promise<{ repairs: Repair[]; cursor: RepairCursor } | undefined>;
}
