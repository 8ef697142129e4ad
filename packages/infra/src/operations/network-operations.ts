// Operations on the shared networks (one stack per account and region in the `platform-networks` project),
// on the same engine, state backend, events and errors as the environment operations.
import type { PulumiFn } from "@pulumi/pulumi/automation";
import {
  ENVIRONMENT_PROJECT,
  NETWORK_PROJECT,
  networkStackReferenceName,
  STACK_REFERENCE_TYPE,
} from "../projects";
import { networkRefSchema, networkSpecSchema } from "../spec";
import { createEnvironmentOperations, type EnvironmentOperationsWithControl } from "./create-operations";
import { EnvironmentOperationError } from "./errors";
import { createStackRunner, parse, plainOutputs, type RunContext, type StackRunner } from "./stack-runner";
import type {
  NetworkOperationResult,
  NetworkOperations,
  NetworkOutputs,
  NetworkRef,
  NetworkSpec,
  OperationKind,
  OperationsConfig,
  RunOptions,
} from "./types";

export interface NetworkOperationsWithControl extends NetworkOperations {
  /** The environments (stack names) whose state references the network: a destroy is refused while any do. */
  usedBy(ref: NetworkRef): Promise<string[]>;
  cancel(ref: NetworkRef): boolean;
  close(): Promise<void>;
}

/** Resource steps of a created network: VPC, default SG, IGW, public table, per AZ 4, NATs 2 each, private 2 per AZ, endpoint. */
export function networkResourceCount(spec: NetworkSpec): number {
  if (spec.existing) return 3; // stack, provider, component
  const zones = spec.availabilityZones ?? 2;
  const nats = spec.natGateways === "onePerAz" ? zones : 1;
  return 3 + 4 + zones * 4 + nats * 2 + 1;
}

function networkProgram(spec: NetworkSpec): PulumiFn {
  // Loaded lazily, like the AWS environment program: local-only callers never load @pulumi/aws.
  const aws: typeof import("../aws") = require("../aws");
  try {
    return aws.awsNetworkProgram(spec);
  } catch (err) {
    if (err instanceof aws.NetworkArgsError) {
      throw new EnvironmentOperationError("invalid-input", `invalid network: ${err.message}`, undefined, {
        cause: err,
      });
    }
    throw err;
  }
}

export function createNetworkOperations(
  rawConfig: OperationsConfig,
  runner: StackRunner = createStackRunner(rawConfig),
): NetworkOperationsWithControl {
  const operate = <T>(
    kind: OperationKind | "recover",
    name: string,
    options: RunOptions | undefined,
    body: (ctx: RunContext) => Promise<T>,
  ) => runner.operate({ project: NETWORK_PROJECT, stack: name, subject: "network" }, kind, options, body);
  const noProgram: PulumiFn = async () => ({});

  async function usedBy(ref: NetworkRef): Promise<string[]> {
    const { name } = parse(networkRefSchema, ref, "network reference");
    const store = runner.stateStore();
    const wanted = networkStackReferenceName(name);
    const users: string[] = [];
    for (const stack of await store.listStacks(ENVIRONMENT_PROJECT)) {
      const checkpoint = await store.readCheckpoint(ENVIRONMENT_PROJECT, stack);
      if (checkpoint?.resources.some((r) => r.type === STACK_REFERENCE_TYPE && r.id === wanted))
        users.push(stack);
    }
    return users;
  }

  async function upOrPreview(kind: "up" | "preview", raw: NetworkSpec, options?: RunOptions) {
    const spec = parse(networkSpecSchema, raw, "network spec");
    return operate(kind, spec.name, options, async (ctx) => {
      const started = Date.now();
      const program = networkProgram(spec);
      const estimate = networkResourceCount(spec);
      if (kind === "up") {
        const { result } = await ctx.runOnStack(program, { create: true, estimate }, (stack, streaming) =>
          stack.up(streaming),
        );
        return {
          kind,
          network: spec.name,
          outputs: plainOutputs<NetworkOutputs>(result.outputs),
          changes: result.summary.resourceChanges ?? {},
          durationMs: Date.now() - started,
        } satisfies NetworkOperationResult;
      }
      const { before, stack, result } = await ctx.runOnStack(
        program,
        { create: true, estimate, leaveNoNewStack: true },
        (stack, streaming) => stack.preview(streaming),
      );
      return {
        kind,
        network: spec.name,
        outputs: before ? plainOutputs<NetworkOutputs>(await stack.outputs()) : {},
        changes: result.changeSummary ?? {},
        durationMs: Date.now() - started,
      } satisfies NetworkOperationResult;
    });
  }

  return {
    up: (spec, options) => upOrPreview("up", spec, options),
    preview: (spec, options) => upOrPreview("preview", spec, options),

    async refresh(raw, options) {
      const ref = parse(networkRefSchema, raw, "network reference");
      return operate("refresh", ref.name, options, async (ctx) => {
        const started = Date.now();
        const { stack, result } = await ctx.runOnStack(noProgram, { create: false }, (stack, streaming) =>
          stack.refresh(streaming),
        );
        return {
          kind: "refresh",
          network: ref.name,
          outputs: plainOutputs<NetworkOutputs>(await stack.outputs()),
          changes: result.summary.resourceChanges ?? {},
          durationMs: Date.now() - started,
        };
      });
    },

    async destroy(raw, options) {
      const ref = parse(networkRefSchema, raw, "network reference");
      return operate("destroy", ref.name, options, async (ctx) => {
        const started = Date.now();
        // Refused before any Pulumi run: environments' load balancers, tasks and security groups live in the
        // VPC, and AWS would refuse to delete it halfway, leaving a broken network behind.
        const users = await usedBy(ref);
        if (users.length > 0) {
          throw new EnvironmentOperationError(
            "in-use",
            `network ${ref.name} is used by ${users.length} environment${users.length === 1 ? "" : "s"} (${users.join(", ")}): destroy them first; nothing was changed`,
          );
        }
        // No stack: an earlier destroy removed it and was stopped before its result was recorded (or it was
        // never created). Nothing is left to destroy.
        if ((await ctx.recover(noProgram)) === undefined) {
          ctx.emit({
            type: "notice",
            message: `the stack of network ${ref.name} does not exist (already removed, or never created): nothing left to destroy`,
          });
          ctx.emit({ type: "progress", done: 0, expected: 0, percent: 100 });
          return {
            kind: "destroy",
            network: ref.name,
            outputs: {},
            changes: {},
            durationMs: Date.now() - started,
          };
        }
        const { result } = await ctx.runOnStack(
          noProgram,
          { create: false, dropLine: (line) => STACK_REMOVAL_HINT.test(line) },
          (stack, streaming) => stack.destroy({ ...streaming, remove: true }),
        );
        ctx.emit({
          type: "notice",
          message: `removed the stack of network ${ref.name} (its history and configuration) from the state backend`,
        });
        return {
          kind: "destroy",
          network: ref.name,
          outputs: {},
          changes: result.summary.resourceChanges ?? {},
          durationMs: Date.now() - started,
        };
      });
    },

    async recover(raw, recoverOptions) {
      const ref = parse(networkRefSchema, raw, "network reference");
      await operate("recover", ref.name, undefined, async (ctx) => {
        await ctx.recover(noProgram, recoverOptions);
      });
    },

    usedBy,

    cancel(raw) {
      const ref = parse(networkRefSchema, raw, "network reference");
      return runner.cancel(NETWORK_PROJECT, ref.name);
    },

    close: () => runner.close(),
  };
}

/** The CLI's closing hint after a destroy, wrong here since the stack is removed right after. */
export const STACK_REMOVAL_HINT =
  /^(The resources in the stack have been deleted, but the history and configuration associated with the stack are still maintained\.|If you want to remove the stack completely, run `pulumi stack rm)/;

export interface PlatformOperations {
  environments: EnvironmentOperationsWithControl;
  networks: NetworkOperationsWithControl;
  /** Releases the shared state backend's connection pool. */
  close(): Promise<void>;
}

/** Environment and network operations on one engine (one state backend connection, one passphrase). */
export function createPlatformOperations(config: OperationsConfig): PlatformOperations {
  const runner = createStackRunner(config);
  return {
    environments: createEnvironmentOperations(config, runner),
    networks: createNetworkOperations(config, runner),
    close: () => runner.close(),
  };
}
