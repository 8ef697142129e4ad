// The engine shared by every kind of stack the platform operates (environments, networks): one state
// backend, one passphrase, one PULUMI_HOME, and the frame around each Pulumi run — validation, one operation
// per stack at a time, cancel, recovery of killed runs, a temporary workspace, streamed events and
// classified errors. Environment and network operations are thin layers on top (create-operations.ts,
// network-operations.ts).
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
import { operationsConfigSchema } from "../spec";
import { describeBackend, openStateStore, type StateStore } from "../state";
import { EnvironmentMutex } from "./environment-mutex";
import { classifyError, EnvironmentOperationError } from "./errors";
import { EngineEventMapper, LineSplitter } from "./events";
import { localPassphrase } from "./passphrase";
import { resolvePulumiCommand } from "./pulumi-cli";
import { recoverStack } from "./recovery";
import type { OperationEvent, OperationKind, OperationsConfig, RecoverOptions, RunOptions } from "./types";

export function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join(".") || what}: ${i.message}`).join("; ");
    throw new EnvironmentOperationError("invalid-input", `invalid ${what}: ${issues}`);
  }
  return result.data;
}

export function plainOutputs<T>(outputs: OutputMap): Partial<T> {
  const plain: Record<string, unknown> = {};
  for (const [key, { value, secret }] of Object.entries(outputs)) if (!secret) plain[key] = value;
  return plain as Partial<T>;
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

/** The streaming options every Pulumi command of an operation gets. */
export interface Streaming {
  onEvent: (e: EngineEvent) => void;
  onOutput: (s: string) => void;
  onError: (s: string) => void;
  signal: AbortSignal;
  color: "never";
}

export interface RunContext {
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

/** Which stack an operation runs on. */
export interface StackTarget {
  project: string;
  stack: string;
  /** How messages name it ("environment" or "network"). */
  subject: "environment" | "network";
  /** The local target's folder (pid files) for its orphan sweep; absent for stacks of cloud resources. */
  envDir?: string;
}

export interface StackRunner {
  readonly config: z.output<typeof operationsConfigSchema>;
  readonly dataDir: string;
  readonly passphrase: string;
  readonly pulumiHome: string;
  stateStore(): StateStore;
  /** The frame around every operation (see the file comment); `body` does the stack-specific part. */
  operate<T>(
    target: StackTarget,
    kind: OperationKind | "recover" | "drift-check",
    options: RunOptions | undefined,
    body: (ctx: RunContext) => Promise<T>,
    /** False for what only reads (a drift check): it runs beside any operation and cannot be cancelled by ref. */
    exclusive?: boolean,
  ): Promise<T>;
  /** Aborts the operation running on that stack in this process, if any. */
  cancel(project: string, stack: string): boolean;
  close(): Promise<void>;
}

export function createStackRunner(rawConfig: OperationsConfig): StackRunner {
  const config = parse(operationsConfigSchema, rawConfig, "operations config");
  const dataDir = path.resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const passphrase = config.passphrase ?? localPassphrase(dataDir);
  const pulumiHome = path.resolve(config.pulumiHome ?? path.join(dataDir, "pulumi-home"));
  mkdirSync(pulumiHome, { recursive: true });
  const mutex = new EnvironmentMutex();
  const controllers = new Map<string, AbortController>();
  const keyOf = (project: string, stack: string) => `${project}/${stack}`;
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

  /**
   * Temporary workspaces live in one folder, named `<pid>-<stack>-…` so a killed run's can be found. It is
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

  async function operate<T>(
    target: StackTarget,
    kind: OperationKind | "recover" | "drift-check",
    options: RunOptions | undefined,
    body: (ctx: RunContext) => Promise<T>,
    exclusive = true,
  ): Promise<T> {
    const { project, stack: stackName, subject } = target;
    const key = keyOf(project, stackName);
    const label = `${subject === "network" ? "network " : ""}${stackName}`;
    const run = (fn: () => Promise<T>) => (exclusive ? mutex.run(key, kind, fn, label) : fn());
    return await run(async () => {
      const controller = new AbortController();
      const external = options?.signal;
      const onAbort = () => controller.abort(external?.reason);
      if (external?.aborted)
        throw new EnvironmentOperationError(
          "cancelled",
          `the ${kind} of ${stackName} was cancelled before it started`,
        );
      external?.addEventListener("abort", onAbort, { once: true });
      if (exclusive) controllers.set(key, controller);
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
          const workDir = mkdtempSync(path.join(workspacesRoot, `${process.pid}-${stackName}-`));
          workDirs.push(workDir);
          const args = { stackName, projectName: project, program };
          const opts = {
            workDir,
            pulumiCommand,
            envVars,
            projectSettings: {
              name: project,
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
            project,
            stack: stackName,
            envDir: target.envDir,
            pulumiHome,
            openStack: () => openStack(program, false),
            notice: (message) => emit({ type: "notice", message }),
            clearPendingCreates: recoverOptions?.clearPendingCreates,
            stackTag: subject === "network" ? "Network" : "Environment",
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
                  `the operation on ${stackName} was cancelled before the Pulumi CLI started: nothing was changed`,
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
                await stack.workspace.removeStack(stackName).catch(() => {});
            }
          },
        };
        return await body(ctx);
      } catch (err) {
        throw classifyError(err, { environment: stackName, aborted: controller.signal.aborted, subject });
      } finally {
        external?.removeEventListener("abort", onAbort);
        if (exclusive) controllers.delete(key);
        for (const dir of workDirs) rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  return {
    config,
    dataDir,
    passphrase,
    pulumiHome,
    stateStore,
    operate,
    cancel(project, stack) {
      const controller = controllers.get(keyOf(project, stack));
      if (!controller) return false;
      controller.abort(new Error("cancelled"));
      return true;
    },
    async close() {
      await store?.close();
      store = undefined;
    },
  };
}
