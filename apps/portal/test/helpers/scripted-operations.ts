// An EnvironmentOperations whose runs are scripted (duration, failure, events). Used ONLY by tests about
// queue and worker semantics (parallelism, cancel, a worker killed mid-run); the end-to-end test uses the
// real operations on the local target.
import type { PrismaClient } from "@platform/db";
import type {
  EnvironmentOperations,
  EnvironmentRef,
  EnvironmentSpec,
  NetworkOperations,
  NetworkRef,
  NetworkSpec,
  OperationResult,
  RunOptions,
} from "../../src/server/worker/operations-contract";

export interface Script {
  /** How long a run takes; Infinity: until aborted. */
  durationMs: number;
  /** Names of environments whose runs fail. */
  failFor?: Set<string>;
  /** Log lines each run emits. */
  logLines?: number;
  /** Names of environments whose runs stop before their last step and wait there until aborted. */
  holdFor?: Set<string>;
}

/**
 * A stand-in for Pulumi's stack locks, kept in the database like the DIY backend keeps its own: a run takes
 * its environment's lock and refuses to start while another holds it; only `recover` removes a lock that a
 * killed run left behind.
 */
export class DatabaseStackLocks {
  constructor(private readonly db: PrismaClient) {}
  async ensureTable(): Promise<void> {
    await this.db
      .$executeRaw`CREATE TABLE IF NOT EXISTS scripted_stack_locks (name text PRIMARY KEY, owner text NOT NULL)`;
  }
  async take(name: string, owner: string): Promise<void> {
    const taken = await this.db.$executeRaw`
      INSERT INTO scripted_stack_locks (name, owner) VALUES (${name}, ${owner}) ON CONFLICT DO NOTHING`;
    if (taken === 0) {
      throw Object.assign(new Error(`the stack ${name} is locked by another run`), {
        code: "concurrent-operation",
      });
    }
  }
  async release(name: string): Promise<void> {
    await this.db.$executeRaw`DELETE FROM scripted_stack_locks WHERE name = ${name}`;
  }
  async holder(name: string): Promise<string | undefined> {
    const rows = await this.db.$queryRaw<{ owner: string }[]>`
      SELECT owner FROM scripted_stack_locks WHERE name = ${name}`;
    return rows[0]?.owner;
  }
}

export interface Call {
  method: "up" | "preview" | "refresh" | "destroy" | "recover";
  name: string;
  at: number;
  /** The spec an up or preview was given. */
  spec?: EnvironmentSpec;
}

export class ScriptedOperations implements EnvironmentOperations {
  readonly calls: Call[] = [];
  active = 0;
  maxActive = 0;
  constructor(
    public script: Script,
    private readonly locks?: DatabaseStackLocks,
    private readonly owner = `pid-${process.pid}`,
  ) {}

  private async run(
    method: Call["method"],
    ref: EnvironmentRef,
    opts: RunOptions = {},
    spec?: EnvironmentSpec,
  ) {
    this.calls.push({ method, name: ref.name, at: Date.now(), spec });
    await this.locks?.take(ref.name, this.owner);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    const started = Date.now();
    try {
      const steps = 4;
      opts.onEvent?.({ type: "progress", done: 0, expected: steps, percent: 0 });
      for (let i = 0; i < (this.script.logLines ?? 0); i++)
        opts.onEvent?.({ type: "log", line: `line ${i}` });
      for (let i = 1; i <= steps; i++) {
        const hold = i === steps && this.script.holdFor?.has(ref.name);
        await sleep(hold ? Number.POSITIVE_INFINITY : this.script.durationMs / steps, opts.signal);
        opts.onEvent?.({
          type: "resource",
          phase: "done",
          urn: `urn:${i}`,
          resourceType: "test:Step",
          name: `step-${i}`,
          op: "create",
        });
        opts.onEvent?.({ type: "progress", done: i, expected: steps, percent: (100 * i) / steps });
      }
      if (this.script.failFor?.has(ref.name))
        throw Object.assign(new Error("scripted failure"), { code: "provider-error" });
      const result: OperationResult = {
        kind: method === "recover" ? "up" : method,
        environment: ref.name,
        outputs:
          method === "destroy"
            ? {}
            : {
                frontendUrl: `http://127.0.0.1:1/${ref.name}`,
                redisWriterEndpoint: "127.0.0.1:2",
                replicas: spec?.frontendReplicas,
              },
        changes: { create: steps },
        durationMs: Date.now() - started,
      };
      return result;
    } finally {
      this.active--;
      await this.locks?.release(ref.name);
    }
  }

  up(spec: EnvironmentSpec, opts?: RunOptions) {
    return this.run("up", spec, opts, spec);
  }
  preview(spec: EnvironmentSpec, opts?: RunOptions) {
    return this.run("preview", spec, opts, spec);
  }
  refresh(ref: EnvironmentRef, opts?: RunOptions) {
    return this.run("refresh", ref, opts);
  }
  destroy(ref: EnvironmentRef, opts?: RunOptions) {
    return this.run("destroy", ref, opts);
  }
  async recover(ref: EnvironmentRef) {
    this.calls.push({ method: "recover", name: ref.name, at: Date.now() });
    await this.locks?.release(ref.name);
  }
}

/**
 * Network operations scripted the same way (the same script: durationMs, failFor and holdFor by network name),
 * returning outputs shaped like a network stack's. `inUse` stands in for the real in-use check of the state.
 */
export class ScriptedNetworkOperations implements NetworkOperations {
  readonly calls: Call[] = [];
  constructor(
    private readonly envOps: ScriptedOperations,
    private readonly inUse: (name: string) => Promise<string[]> = async () => [],
  ) {}

  private async run(method: Call["method"], name: string, opts: RunOptions = {}, spec?: NetworkSpec) {
    this.calls.push({ method, name, at: Date.now() });
    if (method === "destroy") {
      const users = await this.inUse(name);
      if (users.length > 0) {
        throw Object.assign(new Error(`network ${name} is used by ${users.join(", ")}`), { code: "in-use" });
      }
    }
    // The environment script's runner: same timing, events, holds and failures, keyed by the network's name.
    const result = await this.envOps.up(
      {
        name,
        target: "aws",
        frontendReplicas: 1,
        redisReplicas: 1,
        aws: { region: spec?.region ?? "eu-west-1" },
      },
      opts,
    );
    return {
      kind: method === "recover" ? ("up" as const) : method,
      network: name,
      outputs:
        method === "destroy"
          ? {}
          : {
              vpcId: "vpc-0a1b2c3d4e5f60718",
              privateSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
              publicSubnetIds: ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"],
              availabilityZones: [`${spec?.region ?? "eu-west-1"}a`, `${spec?.region ?? "eu-west-1"}b`],
              region: spec?.region ?? "eu-west-1",
              accountId: "123456789012",
              adopted: !!spec?.existing,
              natGatewayCount: spec?.existing
                ? 1
                : spec?.natGateways === "onePerAz"
                  ? (spec.availabilityZones ?? 2)
                  : 1,
            },
      changes: result.changes,
      durationMs: result.durationMs,
    };
  }

  up(spec: NetworkSpec, opts?: RunOptions) {
    return this.run("up", spec.name, opts, spec);
  }
  preview(spec: NetworkSpec, opts?: RunOptions) {
    return this.run("preview", spec.name, opts, spec);
  }
  refresh(ref: NetworkRef, opts?: RunOptions) {
    return this.run("refresh", ref.name, opts);
  }
  destroy(ref: NetworkRef, opts?: RunOptions) {
    return this.run("destroy", ref.name, opts);
  }
  async recover(ref: NetworkRef) {
    this.calls.push({ method: "recover", name: ref.name, at: Date.now() });
    await this.envOps.recover({ name: ref.name, target: "aws" });
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = () => reject(Object.assign(new Error("operation cancelled"), { code: "cancelled" }));
    if (signal?.aborted) return fail();
    const timer = Number.isFinite(ms) ? setTimeout(resolve, ms) : undefined;
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      fail();
    });
  });
}
