// Buffers what a running operation reports and writes it to PostgreSQL in small batches, so a chatty Pulumi
// run costs a few inserts per second. Keeps at most `maxEvents` events per operation (the oldest go) and the
// latest progress on the operation row.
import type { Prisma, PrismaClient } from "@platform/db/client";
import type { OperationEvent } from "./operations-contract";

export interface StoredEvent {
  type: string;
  severity?: string;
  message: string;
  data?: Prisma.InputJsonValue;
}

export function describeEvent(event: OperationEvent): StoredEvent | null {
  switch (event.type) {
    case "resource": {
      const verb = { started: "…", done: "✓", failed: "✗" }[event.phase];
      const took = event.durationMs ? ` (${(event.durationMs / 1000).toFixed(1)} s)` : "";
      return {
        type: "resource",
        severity: event.phase === "failed" ? "error" : "info",
        message: `${verb} ${event.op} ${event.resourceType} ${event.name}${took}`,
        data: { phase: event.phase, op: event.op, urn: event.urn, resourceType: event.resourceType },
      };
    }
    case "diagnostic":
      return { type: "diagnostic", severity: event.severity, message: event.message.trimEnd() };
    case "log":
      return { type: "log", message: event.line.trimEnd() };
    case "notice":
      return { type: "notice", severity: "info", message: event.message };
    case "progress":
      return null;
  }
}

export class EventSink {
  private buffer: StoredEvent[] = [];
  private progress: { done: number; expected: number } | null = null;
  private written = 0;
  private timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: PrismaClient,
    private readonly operationId: string,
    private readonly maxEvents: number,
    flushEveryMs = 300,
  ) {
    this.timer = setInterval(() => void this.flush(), flushEveryMs);
  }

  push = (event: OperationEvent): void => {
    if (event.type === "progress") {
      this.progress = { done: event.done, expected: event.expected };
      return;
    }
    const stored = describeEvent(event);
    if (stored && stored.message.length > 0)
      this.buffer.push({ ...stored, message: stored.message.slice(0, 4000) });
  };

  note(type: string, message: string, severity = "info"): void {
    this.buffer.push({ type, severity, message });
  }

  /** Writes what is buffered; calls are serialised. */
  flush(): Promise<void> {
    this.flushing = this.flushing
      .then(() => this.write())
      .catch((e) => console.error(`[worker] events: ${e}`));
    return this.flushing;
  }

  private async write(): Promise<void> {
    const events = this.buffer.splice(0);
    const progress = this.progress;
    this.progress = null;
    try {
      await this.writeEvents(events);
    } catch (e) {
      this.keepUnwritten(events, progress);
      throw e;
    }
    if (progress) {
      await this.db.operation
        .update({
          where: { id: this.operationId },
          data: { progressDone: progress.done, progressExpected: progress.expected },
        })
        .catch((e) => {
          this.keepUnwritten([], progress);
          throw e;
        });
    }
  }

  /**
   * A failed write (the database down for a moment) keeps its events, ahead of those that came meanwhile, and
   * its progress unless newer came: the next flush writes them, so the live log loses nothing.
   */
  private keepUnwritten(events: StoredEvent[], progress: { done: number; expected: number } | null): void {
    this.buffer.unshift(...events);
    // A long outage: keep the newest, as many as the operation keeps at all.
    if (this.buffer.length > this.maxEvents) this.buffer.splice(0, this.buffer.length - this.maxEvents);
    this.progress ??= progress;
  }

  private async writeEvents(events: StoredEvent[]): Promise<void> {
    if (events.length > 0) {
      await this.db.operationEvent.createMany({
        data: events.map((e) => ({ operationId: this.operationId, ...e })),
      });
      this.written += events.length;
      if (this.written > this.maxEvents) {
        // Written: a failed prune must not write them again (the next write prunes).
        await this.db.$executeRaw`
          DELETE FROM operation_events WHERE operation_id = ${this.operationId}::uuid AND id <= (
            SELECT id FROM operation_events WHERE operation_id = ${this.operationId}::uuid
            ORDER BY id DESC OFFSET ${this.maxEvents} LIMIT 1)`
          .then(() => {
            this.written = this.maxEvents;
          })
          .catch((e) => console.error(`[worker] pruning events: ${e}`));
      }
    }
  }

  /** Stops the timer and writes what is left, retrying for up to `retryForMs` while the database fails. */
  async close(retryForMs = 15_000): Promise<void> {
    clearInterval(this.timer);
    const deadline = Date.now() + retryForMs;
    await this.flush();
    while ((this.buffer.length > 0 || this.progress) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      await this.flush();
    }
  }
}
