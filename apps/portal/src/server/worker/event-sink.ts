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
    if (events.length > 0) {
      await this.db.operationEvent.createMany({
        data: events.map((e) => ({ operationId: this.operationId, ...e })),
      });
      this.written += events.length;
      if (this.written > this.maxEvents) {
        await this.db.$executeRaw`
          DELETE FROM operation_events WHERE operation_id = ${this.operationId}::uuid AND id <= (
            SELECT id FROM operation_events WHERE operation_id = ${this.operationId}::uuid
            ORDER BY id DESC OFFSET ${this.maxEvents} LIMIT 1)`;
        this.written = this.maxEvents;
      }
    }
    if (progress) {
      await this.db.operation.update({
        where: { id: this.operationId },
        data: { progressDone: progress.done, progressExpected: progress.expected },
      });
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
