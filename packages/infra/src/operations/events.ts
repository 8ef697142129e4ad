import type { EngineEvent } from "@pulumi/pulumi/automation";
import type { OperationEvent, ResourceOp } from "./types";

const KNOWN_OPS: Record<string, ResourceOp> = {
  create: "create",
  "create-replacement": "create",
  update: "update",
  delete: "delete",
  "delete-replaced": "delete",
  "discard-replaced": "delete",
  replace: "replace",
  same: "same",
  read: "read",
  "read-replacement": "read",
  refresh: "refresh",
};

// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI colour codes is the point
const ANSI = /\u001b\[[0-9;]*m|<\{%[^%]*%\}>/g;

export function resourceName(urn: string): string {
  return urn.split("::").pop() ?? urn;
}

/**
 * Turns the engine's event stream into the typed events of the contract, and derives progress: steps done
 * (resource steps finished or failed) of steps expected. `expected` starts from an estimate (the resources
 * the program will register, plus those the state holds that it will delete) and grows if the engine
 * starts more steps than estimated, so the figure never runs backwards and never passes 100%.
 */
export class EngineEventMapper {
  private started = new Map<string, number>();
  private seen = 0;
  private done = 0;
  private expected: number;

  constructor(
    estimate: number,
    private readonly emit: (event: OperationEvent) => void,
    private readonly includeDebug = false,
  ) {
    this.expected = Math.max(0, estimate);
  }

  get progress(): { done: number; expected: number } {
    return { done: this.done, expected: this.expected };
  }

  handle(event: EngineEvent): void {
    // Preview steps carry `planning: true`; they are the preview's progress, so they count like any other.
    if (event.resourcePreEvent) {
      const m = event.resourcePreEvent.metadata;
      // Keyed by URN: a refresh step starts as "refresh" and ends as "same", "update" or "delete".
      const key = m.urn;
      if (!this.started.has(key)) {
        this.started.set(key, Date.now()); // event timestamps have 1 s resolution; events arrive live
        this.seen++;
        if (this.seen > this.expected) this.expected = this.seen;
      }
      this.emit({
        type: "resource",
        phase: "started",
        urn: m.urn,
        resourceType: m.type,
        name: resourceName(m.urn),
        op: KNOWN_OPS[m.op] ?? "other",
      });
      this.emitProgress();
    } else if (event.resOutputsEvent) {
      this.finish(event, event.resOutputsEvent.metadata, "done");
    } else if (event.resOpFailedEvent) {
      this.finish(event, event.resOpFailedEvent.metadata, "failed");
    } else if (event.diagnosticEvent) {
      const d = event.diagnosticEvent;
      const severity = d.severity === "info#err" ? "info" : (d.severity as string);
      if (severity === "debug" && !this.includeDebug) return;
      const message = d.message.replace(ANSI, "").trimEnd();
      if (!message) return;
      this.emit({
        type: "diagnostic",
        severity: severity as "debug" | "info" | "warning" | "error",
        message,
        ...(d.urn ? { urn: d.urn } : {}),
      });
    }
  }

  /** The run succeeded: whatever the estimate said, it is complete. */
  complete(): void {
    this.expected = Math.max(this.done, 1);
    this.done = this.expected;
    this.emitProgress();
  }

  private finish(
    _event: EngineEvent,
    m: { urn: string; type: string; op: string },
    phase: "done" | "failed",
  ): void {
    const key = m.urn;
    const startedAt = this.started.get(key);
    if (startedAt === undefined) {
      // An outputs event without a pre event: count it as a step of its own.
      this.seen++;
      if (this.seen > this.expected) this.expected = this.seen;
    }
    // A URN may step again (a replacement: create-replacement, then delete-replaced).
    this.started.delete(key);
    this.done = Math.min(this.done + 1, this.expected);
    this.emit({
      type: "resource",
      phase,
      urn: m.urn,
      resourceType: m.type,
      name: resourceName(m.urn),
      op: KNOWN_OPS[m.op] ?? "other",
      ...(startedAt !== undefined ? { durationMs: Date.now() - startedAt } : {}),
    });
    this.emitProgress();
  }

  private emitProgress(): void {
    const expected = Math.max(this.expected, 1);
    this.emit({
      type: "progress",
      done: this.done,
      expected,
      percent: Math.min(100, Math.floor((this.done / expected) * 100)),
    });
  }
}

/** Splits the CLI's output chunks into whole lines. */
export class LineSplitter {
  private buffer = "";
  constructor(private readonly emit: (line: string) => void) {}
  push(chunk: string): void {
    this.buffer += chunk;
    const lines = this.buffer.split("\n");
    this.buffer = lines.pop() ?? "";
    for (const line of lines) {
      const clean = line.replace(ANSI, "").trimEnd();
      if (clean) this.emit(clean);
    }
  }
  flush(): void {
    if (this.buffer.trim()) this.emit(this.buffer.replace(ANSI, "").trimEnd());
    this.buffer = "";
  }
}
