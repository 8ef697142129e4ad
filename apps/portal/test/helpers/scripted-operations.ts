// An EnvironmentOperations whose runs are scripted (duration, failure, events). Used ONLY by tests about
// queue and worker semantics (parallelism, cancel, a worker killed mid-run); the end-to-end test uses the
// real operations on the local target.
import type {
  EnvironmentOperations,
  EnvironmentRef,
  EnvironmentSpec,
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
}

export interface Call {
  method: "up" | "preview" | "refresh" | "destroy" | "recover";
  name: string;
  at: number;
}

export class ScriptedOperations implements EnvironmentOperations {
  readonly calls: Call[] = [];
  active = 0;
  maxActive = 0;
  constructor(public script: Script) {}

  private async run(
    method: Call["method"],
    ref: EnvironmentRef,
    opts: RunOptions = {},
    spec?: EnvironmentSpec,
  ) {
    this.calls.push({ method, name: ref.name, at: Date.now() });
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    const started = Date.now();
    try {
      const steps = 4;
      opts.onEvent?.({ type: "progress", done: 0, expected: steps, percent: 0 });
      for (let i = 0; i < (this.script.logLines ?? 0); i++)
        opts.onEvent?.({ type: "log", line: `line ${i}` });
      for (let i = 1; i <= steps; i++) {
        await sleep(this.script.durationMs / steps, opts.signal);
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
