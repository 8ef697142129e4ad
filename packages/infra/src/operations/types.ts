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
  /**
   * The network (stack of the `platform-networks` project) the environment is placed in. Default:
   * `defaultNetworkName(region)`, i.e. `aws-<region>`. It must exist, in the same region and account.
   */
  network?: string;
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

/**
 * A shared network: one per (account, region), a stack of the `platform-networks` project. Either created (a VPC
 * with public and private subnets across availability zones and NAT gateways) or an existing VPC adopted by id.
 * Validated by `networkSpecSchema` before any Pulumi run.
 */
export interface NetworkSpec {
  /** DNS-safe; the stack name. Default for a region: `defaultNetworkName(region)`. */
  name: string;
  region: string;
  /** Recorded in the Owner tag. */
  owner?: string;
  /** Availability zones of a created network (2 or 3; default 2). */
  availabilityZones?: number;
  /** `single` (default: one NAT gateway, cheapest) or `onePerAz` (survives the loss of an AZ). */
  natGateways?: "single" | "onePerAz";
  /** IPv4 range of a created VPC: a private /16 (default 10.0.0.0/16). */
  cidrBlock?: string;
  /** Adopt this VPC instead of creating one (the three options above must then be absent). */
  existing?: ExistingNetwork;
}

export interface ExistingNetwork {
  vpcId: string;
  /** Tasks and internal load balancers: at least two, in distinct AZs, with a default route to a NAT. */
  privateSubnetIds: string[];
  /** Public load balancers: at least two, covering the private subnets' AZs, with a route to an internet gateway. */
  publicSubnetIds: string[];
}

export interface NetworkRef {
  name: string;
}

/** A network stack's outputs: what environments consume (through a StackReference). */
export interface NetworkOutputs {
  vpcId: string;
  privateSubnetIds: string[];
  publicSubnetIds: string[];
  availabilityZones: string[];
  region: string;
  accountId: string;
  /** True for an adopted VPC (nothing of it is managed, or paid for, here). */
  adopted: boolean;
  /** NAT gateways the network's private subnets route through (those it created, or found when adopted). */
  natGatewayCount: number;
  cidrBlock: string;
  [key: string]: unknown;
}

export interface NetworkOperationResult {
  kind: OperationKind;
  network: string;
  /** Empty after destroy and for preview of a new network. */
  outputs: Partial<NetworkOutputs>;
  changes: ChangeSummary;
  durationMs: number;
}

/**
 * Implemented by `createNetworkOperations(config)` (or `createPlatformOperations(config).networks`). Same
 * engine, state backend, events and errors as the environment operations; `destroy` is refused with `in-use`
 * while an environment stack references the network.
 */
export interface NetworkOperations {
  up(spec: NetworkSpec, options?: RunOptions): Promise<NetworkOperationResult>;
  preview(spec: NetworkSpec, options?: RunOptions): Promise<NetworkOperationResult>;
  refresh(ref: NetworkRef, options?: RunOptions): Promise<NetworkOperationResult>;
  destroy(ref: NetworkRef, options?: RunOptions): Promise<NetworkOperationResult>;
  /** Like an environment's: `clearPendingCreates` once the resources a killed run was creating are known gone. */
  recover(ref: NetworkRef, options?: RecoverOptions): Promise<void>;
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
  /** A network destroy while environments still use it (nothing was changed). */
  | "in-use"
  /** An AWS environment whose network does not exist yet or never finished its create (nothing was changed). */
  | "network-not-ready"
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
  /**
   * A prebuilt voting-app image for AWS environments (`<registry>/<repo>@sha256:…` or `:tag`). Default:
   * `VOTING_APP_IMAGE`, else each environment builds one with Docker (which the worker then needs).
   */
  awsFrontendImage?: string;
  /**
   * Permissions boundary (IAM policy ARN) for the roles AWS environments create. Default:
   * `AWS_ENVIRONMENT_ROLE_BOUNDARY`; set when the worker's own role requires it (the portal on AWS does).
   */
  awsRoleBoundaryArn?: string;
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
