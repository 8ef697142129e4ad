import { createHmac } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import path from "node:path";
import type { PulumiFn } from "@pulumi/pulumi/automation";
import { readRepairs } from "../local/self-healing";
import { ENVIRONMENT_PROJECT, NETWORK_PROJECT } from "../projects";
import { defaultNetworkName, environmentRefSchema, environmentSpecSchema } from "../spec";
import { EnvironmentOperationError } from "./errors";
import { resourceName } from "./events";
import { programForTarget } from "./program-for-target";
import { reapOrphans } from "./recovery";
import {
  createStackRunner,
  parse,
  plainOutputs,
  type RunContext,
  type StackRunner,
  type StackTarget,
} from "./stack-runner";
import type {
  DriftDifference,
  DriftReport,
  EnvironmentOperations,
  EnvironmentOutputs,
  EnvironmentRef,
  EnvironmentSpec,
  ObservedTopology,
  OperationKind,
  OperationResult,
  OperationsConfig,
  ResourceOp,
  RunOptions,
} from "./types";

/** A resource of an exported stack deployment (the parts read here). */
interface StateResource {
  urn: string;
  type: string;
  outputs?: Record<string, unknown>;
}

/**
 * Replica counts as a refreshed state holds them. Local: the running frontends and Redis servers. AWS: the
 * ECS services' desired counts (ECS keeps that many tasks running; a changed count is drift).
 */
export function observedTopology(environment: string, resources: StateResource[]): ObservedTopology {
  const local = (type: string) =>
    resources.filter((r) => r.type === `pulumi-nodejs:dynamic/local:${type}`).length;
  if (resources.some((r) => r.type.startsWith("pulumi-nodejs:dynamic/local:"))) {
    return { frontendReplicas: local("VotingApp"), redisReplicas: local("RedisServer") };
  }
  const desired = (suffix: string) => {
    const service = resources.find(
      (r) => r.type === "aws:ecs/service:Service" && resourceName(r.urn) === `${environment}-${suffix}`,
    );
    return typeof service?.outputs?.desiredCount === "number" ? service.outputs.desiredCount : 0;
  };
  return {
    frontendReplicas: desired("frontend"),
    redisReplicas: desired("redis-writer") + desired("redis-replicas"),
  };
}

/** One Pulumi project for all environments; each environment is one stack of it. */
export const PROJECT_NAME = ENVIRONMENT_PROJECT;

/** The operations plus what this implementation adds to the contract. */
export interface EnvironmentOperationsWithControl extends EnvironmentOperations {
  /** Aborts the operation running on `ref` in this process, if any (same as aborting its signal). */
  cancel(ref: EnvironmentRef): boolean;
  /** Releases the state backend's connection pool. */
  close(): Promise<void>;
}

/**
 * Environment operations on the real Pulumi engine: every environment is a stack of one project, run as an
 * inline program (`local` or `aws` target) in a temporary workspace, with state in the configured DIY
 * backend (PostgreSQL or files). `runner` shares the engine with the network operations (see
 * createPlatformOperations); without it the operations get their own.
 */
export function createEnvironmentOperations(
  rawConfig: OperationsConfig,
  runner: StackRunner = createStackRunner(rawConfig),
): EnvironmentOperationsWithControl {
  const { config, dataDir, passphrase } = runner;

  /** Per environment, stable across runs, never stored in plain text: derived from the passphrase. */
  const redisPassword = (environment: string) =>
    createHmac("sha256", passphrase).update(`redis:${environment}`).digest("base64url").slice(0, 32);

  /** The same for the local target's PostgreSQL (hex: safe in a connection URL). */
  const databasePassword = (environment: string) =>
    createHmac("sha256", passphrase).update(`postgres:${environment}`).digest("hex").slice(0, 32);

  const envDirOf = (name: string) => path.join(dataDir, name);
  const target = (name: string, kind: EnvironmentSpec["target"]): StackTarget => ({
    project: ENVIRONMENT_PROJECT,
    stack: name,
    subject: "environment",
    envDir: kind === "local" ? envDirOf(name) : undefined,
  });
  const operate = <T>(
    kind: OperationKind | "recover" | "drift-check",
    environment: string,
    where: EnvironmentSpec["target"],
    options: RunOptions | undefined,
    body: (ctx: RunContext) => Promise<T>,
    /** False for what only reads (a drift check): it runs beside any operation and cannot be cancelled by ref. */
    exclusive = true,
  ) => runner.operate(target(environment, where), kind, options, body, exclusive);

  /**
   * An AWS environment is placed in its region's network: refuse before any Pulumi run when that network's
   * stack does not exist or never published its outputs (its create failed or is still running).
   */
  async function requireNetwork(spec: EnvironmentSpec): Promise<void> {
    if (spec.target !== "aws" || !spec.aws) return;
    const name = spec.aws.network ?? defaultNetworkName(spec.aws.region);
    const checkpoint = await runner.stateStore().readCheckpoint(NETWORK_PROJECT, name);
    if (!checkpoint) {
      throw new EnvironmentOperationError(
        "network-not-ready",
        `network ${name} does not exist: create the network of ${spec.aws.region} before its first environment`,
      );
    }
    if (!checkpoint.stackOutputs?.vpcId) {
      throw new EnvironmentOperationError(
        "network-not-ready",
        `network ${name} has no outputs yet (its create has not succeeded): run it again, then create ${spec.name}`,
      );
    }
  }

  const noProgram: PulumiFn = async () => ({});

  async function upOrPreview(kind: "up" | "preview", rawSpec: EnvironmentSpec, options?: RunOptions) {
    const spec = parse(environmentSpecSchema, rawSpec, "environment spec");
    return operate(kind, spec.name, spec.target, options, async (ctx) => {
      const started = Date.now();
      await requireNetwork(spec);
      const { program, estimate } = programForTarget(spec, {
        dataDir,
        redisServerPath: config.redisServerPath,
        votingAppMain: config.votingAppMain,
        haproxyPath: config.haproxyPath,
        supervisordPath: config.supervisordPath,
        redisPassword: redisPassword(spec.name),
        awsFrontendImage: config.awsFrontendImage,
        awsRoleBoundaryArn: config.awsRoleBoundaryArn,
        databasePassword: databasePassword(spec.name),
      });
      if (kind === "up") {
        const { result } = await ctx.runOnStack(program, { create: true, estimate }, (stack, streaming) =>
          stack.up(streaming),
        );
        return {
          kind,
          environment: spec.name,
          outputs: plainOutputs<EnvironmentOutputs>(result.outputs),
          changes: result.summary.resourceChanges ?? {},
          durationMs: Date.now() - started,
        } satisfies OperationResult;
      }
      const { before, stack, result } = await ctx.runOnStack(
        program,
        // A preview changes nothing: not even the empty stack that selecting a new environment creates,
        // also when the preview fails or is cancelled.
        { create: true, estimate, leaveNoNewStack: true },
        (stack, streaming) => stack.preview(streaming),
      );
      const outputs = before ? plainOutputs<EnvironmentOutputs>(await stack.outputs()) : {};
      return {
        kind,
        environment: spec.name,
        outputs,
        changes: result.changeSummary ?? {},
        durationMs: Date.now() - started,
      } satisfies OperationResult;
    });
  }

  /**
   * What the CLI prints after every destroy: wrong here, since destroy removes the stack right after (the
   * notice that follows says so).
   */
  const stackRemovalHint =
    /^(The resources in the stack have been deleted, but the history and configuration associated with the stack are still maintained\.|If you want to remove the stack completely, run `pulumi stack rm)/;

  const operations: EnvironmentOperationsWithControl = {
    up: (spec, options) => upOrPreview("up", spec, options),
    preview: (spec, options) => upOrPreview("preview", spec, options),

    async refresh(rawRef, options) {
      const ref = parse(environmentRefSchema, rawRef, "environment reference");
      return operate("refresh", ref.name, ref.target, options, async (ctx) => {
        const started = Date.now();
        const { stack, result } = await ctx.runOnStack(noProgram, { create: false }, (stack, streaming) =>
          stack.refresh(streaming),
        );
        const deployment = (await stack.exportStack()).deployment as { resources?: StateResource[] };
        return {
          kind: "refresh",
          environment: ref.name,
          outputs: plainOutputs<EnvironmentOutputs>(await stack.outputs()),
          changes: result.summary.resourceChanges ?? {},
          durationMs: Date.now() - started,
          observed: observedTopology(ref.name, deployment.resources ?? []),
        };
      });
    },

    async destroy(rawRef, options) {
      const ref = parse(environmentRefSchema, rawRef, "environment reference");
      return operate("destroy", ref.name, ref.target, options, async (ctx) => {
        const started = Date.now();
        const envDir = ref.target === "local" ? envDirOf(ref.name) : undefined;
        const notice = (message: string) => ctx.emit({ type: "notice", message });
        // No stack: an earlier destroy removed it and was stopped before its result was recorded (or nothing
        // was ever created). Nothing is left to destroy; the recovery has already stopped any process of a
        // local environment the process table still shows.
        if ((await ctx.recover(noProgram)) === undefined) {
          notice(
            `the stack ${ref.name} does not exist (already removed, or never created): nothing left to destroy`,
          );
          if (envDir) rmSync(envDir, { recursive: true, force: true });
          ctx.emit({ type: "progress", done: 0, expected: 0, percent: 100 });
          return {
            kind: "destroy",
            environment: ref.name,
            outputs: {},
            changes: {},
            durationMs: Date.now() - started,
          };
        }
        const { result } = await ctx.runOnStack(
          noProgram,
          { create: false, dropLine: (line) => stackRemovalHint.test(line) },
          (stack, streaming) => stack.destroy({ ...streaming, remove: true }),
        );
        notice(`removed the stack ${ref.name} (its history and configuration) from the state backend`);
        if (envDir) {
          // Every resource is deleted: nothing of this environment may keep running. A process the state
          // never knew (killed run, a dead supervisor) is found in the process table and stopped too.
          await reapOrphans(envDir, undefined, notice);
          rmSync(envDir, { recursive: true, force: true });
        }
        return {
          kind: "destroy",
          environment: ref.name,
          outputs: {},
          changes: result.summary.resourceChanges ?? {},
          durationMs: Date.now() - started,
        };
      });
    },

    async detectDrift(rawRef, options) {
      const ref = parse(environmentRefSchema, rawRef, "environment reference");
      return operate(
        "drift-check",
        ref.name,
        ref.target,
        options,
        async (ctx) => {
          const started = Date.now();
          const stack = await ctx.openStack(noProgram, false);
          const differences = new Map<string, DriftDifference>();
          const result = await stack.previewRefresh({
            color: "never",
            signal: ctx.signal,
            onEvent: (e) => {
              const m = e.resOutputsEvent?.metadata ?? e.resourcePreEvent?.metadata;
              if (!m || m.op === "same" || m.op === "refresh" || m.type === "pulumi:pulumi:Stack") return;
              const name = resourceName(m.urn);
              differences.set(name, {
                name,
                type: m.type.split(":").pop() ?? m.type,
                op: (["create", "update", "delete", "replace", "read"].includes(m.op)
                  ? m.op
                  : "other") as ResourceOp,
                ...(m.diffs?.length ? { properties: m.diffs } : {}),
              });
            },
          });
          const changes = result.changeSummary ?? {};
          const drifted = Object.entries(changes).some(([op, n]) => op !== "same" && (n ?? 0) > 0);
          return {
            environment: ref.name,
            drifted: drifted || differences.size > 0,
            changes,
            differences: [...differences.values()],
            durationMs: Date.now() - started,
          } satisfies DriftReport;
        },
        false,
      );
    },

    hostsEnvironment(rawRef) {
      const ref = parse(environmentRefSchema, rawRef, "environment reference");
      return ref.target !== "local" || existsSync(envDirOf(ref.name));
    },

    async readRepairs(rawRef, cursor) {
      const ref = parse(environmentRefSchema, rawRef, "environment reference");
      if (ref.target !== "local" || !existsSync(envDirOf(ref.name))) return undefined;
      return readRepairs(envDirOf(ref.name), cursor);
    },

    async recover(rawRef, recoverOptions) {
      const ref = parse(environmentRefSchema, rawRef, "environment reference");
      await operate("recover", ref.name, ref.target, undefined, async (ctx) => {
        await ctx.recover(noProgram, recoverOptions);
      });
    },

    cancel(rawRef) {
      const ref = parse(environmentRefSchema, rawRef, "environment reference");
      return runner.cancel(ENVIRONMENT_PROJECT, ref.name);
    },

    close: () => runner.close(),
  };
  return operations;
}
