import { createHmac } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import {
  type EngineEvent,
  LocalWorkspace,
  type OutputMap,
  type PulumiFn,
  type Stack,
} from "@pulumi/pulumi/automation";
import type { z } from "zod";
import { pidAlive } from "../local/process-control";
import { readRepairs } from "../local/self-healing";
import { environmentRefSchema, environmentSpecSchema, operationsConfigSchema } from "../spec";
import { describeBackend, openStateStore, type StateStore } from "../state";
import { EnvironmentMutex } from "./environment-mutex";
import { classifyError, EnvironmentOperationError } from "./errors";
import { EngineEventMapper, LineSplitter, resourceName } from "./events";
import { localPassphrase } from "./passphrase";
import { programForTarget } from "./program-for-target";
import { resolvePulumiCommand } from "./pulumi-cli";
import { reapOrphans, recoverStack } from "./recovery";
import type {
  DriftDifference,
  DriftReport,
  EnvironmentOperations,
  EnvironmentOutputs,
  EnvironmentRef,
  EnvironmentSpec,
  ObservedTopology,
  OperationEvent,
  OperationKind,
  OperationResult,
  OperationsConfig,
  RecoverOptions,
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
export const PROJECT_NAME = "voting-environments";

/** The operations plus what this implementation adds to the contract. */
export interface EnvironmentOperationsWithControl extends EnvironmentOperations {
  /** Aborts the operation running on `ref` in this process, if any (same as aborting its signal). */
  cancel(ref: EnvironmentRef): boolean;
  /** Releases the state backend's connection pool. */
  close(): Promise<void>;
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join(".") || what}: ${i.message}`).join("; ");
    throw new EnvironmentOperationError("invalid-input", `invalid ${what}: ${issues}`);
  }
  return result.data;
}

function plainOutputs(outputs: OutputMap): Partial<EnvironmentOutputs> {
  const plain: Record<string, unknown> = {};
  for (const [key, { value, secret }] of Object.entries(outputs)) if (!secret) plain[key] = value;
  return plain as Partial<EnvironmentOutputs>;
}

/**
 * The signal for a Pulumi command. The Automation API forwards an abort to the CLI only once the CLI runs:
 * one that comes earlier (during recovery, stack selection or the API's own setup) would be lost and the
 * run would go through. So the operation checks `signal.aborted` before it starts the command, and an abort
 * during the setup is passed on when the CLI shows its first sign of life (`running()`: output or event).
 */
function abortOnceRunning(operation: AbortSignal): {
  signal: AbortSignal;
  running(): void;
  dispose(): void;
} {
  const cli = new AbortController();
  let running = false;
  const forward = () => {
    if (running) cli.abort();
  };
  operation.addEventListener("abort", forward, { once: true });
  return {
    signal: cli.signal,
    running() {
      if (running) return;
      running = true;
      if (operation.aborted) cli.abort();
    },
    dispose: () => operation.removeEventListener("abort", forward),
  };
}

/** The folder that holds `@pulumi/pulumi`, for the dynamic-provider plugin's `require.resolve`. */
function nodeModulesOfPulumi(): string {
  const pkg = require.resolve("@pulumi/pulumi/package.json");
  return path.dirname(path.dirname(path.dirname(pkg)));
}

/**
 * Environment operations on the real Pulumi engine: every environment is a stack of one project, run as an
 * inline program (`local` or `aws` target) in a temporary workspace, with state in the configured DIY
 * backend (PostgreSQL or files).
 */
export function createEnvironmentOperations(rawConfig: OperationsConfig): EnvironmentOperationsWithControl {
  const config = parse(operationsConfigSchema, rawConfig, "operations config");
  const dataDir = path.resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const passphrase = config.passphrase ?? localPassphrase(dataDir);
  const pulumiHome = path.resolve(config.pulumiHome ?? path.join(dataDir, "pulumi-home"));
  mkdirSync(pulumiHome, { recursive: true });
  const mutex = new EnvironmentMutex();
  const controllers = new Map<string, AbortController>();
  let store: StateStore | undefined;
  const stateStore = () => {
    store ??= openStateStore(config.backendUrl);
    return store;
  };

  const envVars: Record<string, string> = {
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_CONFIG_PASSPHRASE: passphrase,
    PULUMI_BACKEND_URL: config.backendUrl,
    PULUMI_HOME: pulumiHome,
    // The dynamic-provider plugin (a shell script) finds @pulumi/pulumi through NODE_PATH: our workspaces
    // live in the data folder, outside any node_modules tree.
    NODE_PATH: [nodeModulesOfPulumi(), process.env.NODE_PATH].filter(Boolean).join(path.delimiter),
    PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
  };

  /** Per environment, stable across runs, never stored in plain text: derived from the passphrase. */
  const redisPassword = (environment: string) =>
    createHmac("sha256", passphrase).update(`redis:${environment}`).digest("base64url").slice(0, 32);

  /** The same for the local target's PostgreSQL (hex: safe in a connection URL). */
  const databasePassword = (environment: string) =>
    createHmac("sha256", passphrase).update(`postgres:${environment}`).digest("hex").slice(0, 32);

  const envDirOf = (name: string) => path.join(dataDir, name);

  /**
   * Temporary workspaces live in one folder, named `<pid>-<environment>-…` so a killed run's can be found. It is
   * under the data folder with mode 0700, never in a shared temp folder: workspaces hold the stack settings, and
   * another local user must not read or plant files there.
   */
  const workspacesRoot = path.resolve(config.workspacesDir ?? path.join(dataDir, ".workspaces"));
  mkdirSync(workspacesRoot, { recursive: true, mode: 0o700 });
  chmodSync(workspacesRoot, 0o700);
  const removeStaleWorkspaces = () => {
    if (!existsSync(workspacesRoot)) return;
    for (const dir of readdirSync(workspacesRoot)) {
      const pid = Number(dir.split("-")[0]);
      if (pid && pid !== process.pid && !pidAlive(pid))
        rmSync(path.join(workspacesRoot, dir), { recursive: true, force: true });
    }
  };

  /** The streaming options every Pulumi command of an operation gets. */
  interface Streaming {
    onEvent: (e: EngineEvent) => void;
    onOutput: (s: string) => void;
    onError: (s: string) => void;
    signal: AbortSignal;
    color: "never";
  }

  interface RunContext {
    emit: (event: OperationEvent) => void;
    /** Aborted when the operation is cancelled. */
    signal: AbortSignal;
    /** The stack in a fresh temporary workspace (created when `create`), without recovery. */
    openStack: (program: PulumiFn, create: boolean) => Promise<Stack>;
    /** Recovery only: stale lock, pending operations, orphans. Undefined for a stack that does not exist. */
    recover: (program: PulumiFn, options?: RecoverOptions) => Promise<{ resources: number } | undefined>;
    /**
     * Recovery, then `run` on the stack (created when `create`) with the streaming options; progress expects
     * `estimate` steps or as many as the state holds, and completes when `run` succeeds. `dropLine` keeps a
     * CLI line out of the log events.
     */
    runOnStack: <R>(
      program: PulumiFn,
      how: {
        create: boolean;
        estimate?: number;
        dropLine?: (line: string) => boolean;
        /** Remove the stack afterwards if this run created it (a preview changes nothing). */
        leaveNoNewStack?: boolean;
      },
      run: (stack: Stack, streaming: Streaming) => Promise<R>,
    ) => Promise<{ before: { resources: number } | undefined; stack: Stack; result: R }>;
  }

  /** The frame around every operation: validation done, mutex, cancel, temp workspace, error classes. */
  async function operate<T>(
    kind: OperationKind | "recover" | "drift-check",
    environment: string,
    target: EnvironmentSpec["target"],
    options: RunOptions | undefined,
    body: (ctx: RunContext) => Promise<T>,
    /** False for what only reads (a drift check): it runs beside any operation and cannot be cancelled by ref. */
    exclusive = true,
  ): Promise<T> {
    const run = (fn: () => Promise<T>) => (exclusive ? mutex.run(environment, kind, fn) : fn());
    return await run(async () => {
      const controller = new AbortController();
      const external = options?.signal;
      const onAbort = () => controller.abort(external?.reason);
      if (external?.aborted)
        throw new EnvironmentOperationError(
          "cancelled",
          `the ${kind} of ${environment} was cancelled before it started`,
        );
      external?.addEventListener("abort", onAbort, { once: true });
      if (exclusive) controllers.set(environment, controller);
      const workDirs: string[] = [];
      const emit = (event: OperationEvent) => {
        try {
          options?.onEvent?.(event);
        } catch {
          // a failing listener must not break the operation
        }
      };
      try {
        removeStaleWorkspaces();
        const pulumiCommand = await resolvePulumiCommand(config.cliRoot);
        const openStack = async (program: PulumiFn, create: boolean) => {
          mkdirSync(workspacesRoot, { recursive: true, mode: 0o700 });
          const workDir = mkdtempSync(path.join(workspacesRoot, `${process.pid}-${environment}-`));
          workDirs.push(workDir);
          const args = { stackName: environment, projectName: PROJECT_NAME, program };
          const opts = {
            workDir,
            pulumiCommand,
            envVars,
            projectSettings: {
              name: PROJECT_NAME,
              runtime: "nodejs" as const,
              backend: { url: config.backendUrl },
            },
          };
          return create
            ? await LocalWorkspace.createOrSelectStack(args, opts)
            : await LocalWorkspace.selectStack(args, opts);
        };
        const recover = async (program: PulumiFn, recoverOptions?: RecoverOptions) => {
          const s = stateStore();
          try {
            await s.ping();
          } catch (err) {
            throw new EnvironmentOperationError(
              "backend-unreachable",
              `the Pulumi state backend (${describeBackend(config.backendUrl)}) is unreachable: ${err instanceof Error ? err.message : String(err)}`,
              String(err),
              { cause: err },
            );
          }
          const checkpoint = await recoverStack({
            store: s,
            project: PROJECT_NAME,
            stack: environment,
            envDir: target === "local" ? envDirOf(environment) : undefined,
            pulumiHome,
            openStack: () => openStack(program, false),
            notice: (message) => emit({ type: "notice", message }),
            clearPendingCreates: recoverOptions?.clearPendingCreates,
          });
          return checkpoint ? { resources: checkpoint.resources.length } : undefined;
        };
        const ctx: RunContext = {
          emit,
          signal: controller.signal,
          openStack,
          recover,
          async runOnStack(program, how, run) {
            const before = await recover(program);
            // Steps: what the program registers, plus what the state holds beyond it (to delete).
            const mapper = new EngineEventMapper(Math.max(how.estimate ?? 0, before?.resources ?? 0), emit);
            const lines = new LineSplitter((line) => {
              if (!how.dropLine?.(line)) emit({ type: "log", line });
            });
            const stack = await openStack(program, how.create);
            const cli = abortOnceRunning(controller.signal);
            const onOutput = (chunk: string) => {
              cli.running();
              lines.push(chunk);
            };
            try {
              if (controller.signal.aborted) {
                throw new EnvironmentOperationError(
                  "cancelled",
                  `the operation on ${environment} was cancelled before the Pulumi CLI started: nothing was changed`,
                );
              }
              const result = await run(stack, {
                onEvent: (e) => {
                  cli.running();
                  mapper.handle(e);
                  try {
                    options?.onEngineEvent?.(e);
                  } catch {
                    // a failing listener must not break the operation
                  }
                },
                onOutput,
                onError: onOutput,
                signal: cli.signal,
                color: "never",
              });
              mapper.complete();
              return { before, stack, result };
            } finally {
              cli.dispose();
              lines.flush(); // a failed run's last line without a newline still reaches the log
              if (how.leaveNoNewStack && !before)
                await stack.workspace.removeStack(environment).catch(() => {});
            }
          },
        };
        return await body(ctx);
      } catch (err) {
        throw classifyError(err, { environment, aborted: controller.signal.aborted });
      } finally {
        external?.removeEventListener("abort", onAbort);
        if (exclusive) controllers.delete(environment);
        for (const dir of workDirs) rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  const noProgram: PulumiFn = async () => ({});

  async function upOrPreview(kind: "up" | "preview", rawSpec: EnvironmentSpec, options?: RunOptions) {
    const spec = parse(environmentSpecSchema, rawSpec, "environment spec");
    return operate(kind, spec.name, spec.target, options, async (ctx) => {
      const started = Date.now();
      const { program, estimate } = programForTarget(spec, {
        dataDir,
        redisServerPath: config.redisServerPath,
        votingAppMain: config.votingAppMain,
        haproxyPath: config.haproxyPath,
        supervisordPath: config.supervisordPath,
        redisPassword: redisPassword(spec.name),
        databasePassword: databasePassword(spec.name),
      });
      if (kind === "up") {
        const { result } = await ctx.runOnStack(program, { create: true, estimate }, (stack, streaming) =>
          stack.up(streaming),
        );
        return {
          kind,
          environment: spec.name,
          outputs: plainOutputs(result.outputs),
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
      const outputs = before ? plainOutputs(await stack.outputs()) : {};
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
          outputs: plainOutputs(await stack.outputs()),
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
      const controller = controllers.get(ref.name);
      if (!controller) return false;
      controller.abort(new Error("cancelled"));
      return true;
    },

    async close() {
      await store?.close();
      store = undefined;
    },
  };
  return operations;
}
