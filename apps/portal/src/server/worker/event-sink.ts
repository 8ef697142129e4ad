// Buffers what a running operation reports and writes it to PostgreSQL in small batches, so a chatty Pulumi
// run costs a few inserts per second. Keeps at most `maxEvents` events per operation (the oldest go) and the
// latest progress on the operation row. A failed write keeps what it was writing and tries again at the
// next flush: a database restart during an operation loses no log line (up to `maxBuffered` waiting lines;
// past that the oldest waiting ones are dropped and a notice says how many).
import type { Prisma, PrismaClient } from "@platform/db/client";
import type { Logger } from "../logger";
import type { OperationEvent } from "./operations-contract";

/** Longest message kept for one event (a Pulumi diagnostic can be megabytes). */
export const MAX_MESSAGE_LENGTH = 4000;

export interface StoredEvent {
  type: string;
  severity?: string;
  message: string;
  data?: Prisma.InputJsonValue;
}

export function truncateMessage(message: string, max = MAX_MESSAGE_LENGTH): string {
  if (message.length <= max) return message;
  const suffix = ` … (${message.length - max + 40} more characters)`;
  return message.slice(0, max - suffix.length) + suffix;
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

export interface EventSinkOptions {
  maxEvents: number;
  flushEveryMs?: number;
  /** Events waiting while writes fail, at most (the oldest waiting are dropped past this). */
  maxBuffered?: number;
  logger?: Logger;
}

const BATCH = 500;

export class EventSink {
  private buffer: StoredEvent[] = [];
  private dropped = 0;
  private progress: { done: number; expected: number } | null = null;
  private written = 0;
  private failures = 0;
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private readonly maxEvents: number;
  private readonly maxBuffered: number;
  private readonly logger?: Logger;

  constructor(
    private readonly db: PrismaClient,
    private readonly operationId: string,
    options: EventSinkOptions,
  ) {
    this.maxEvents = options.maxEvents;
    this.maxBuffered = options.maxBuffered ?? 10_000;
    this.logger = options.logger;
    this.timer = setInterval(() => void this.flush(), options.flushEveryMs ?? 300);
  }

  /** Events waiting to be written. */
  get pending(): number {
    return this.buffer.length;
  }

  push = (event: OperationEvent): void => {
    if (event.type === "progress") {
      this.progress = { done: event.done, expected: event.expected };
      return;
    }
    const stored = describeEvent(event);
    if (stored && stored.message.length > 0)
      this.add({ ...stored, message: truncateMessage(stored.message) });
  };

  note(type: string, message: string, severity = "info"): void {
    this.add({ type, severity, message: truncateMessage(message) });
  }

  private add(event: StoredEvent): void {
    this.buffer.push(event);
    if (this.buffer.length > this.maxBuffered) {
      const excess = this.buffer.length - this.maxBuffered;
      this.buffer.splice(0, excess);
      this.dropped += excess;
    }
  }

  /** Writes what is buffered; calls are serialised. A failed write keeps its events for the next flush. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private async write(): Promise<void> {
    try {
      if (this.dropped > 0) {
        const dropped = this.dropped;
        await this.db.operationEvent.create({
          data: {
            operationId: this.operationId,
            type: "notice",
            severity: "warning",
            message: `${dropped} earlier log lines were dropped: the database could not take them in time`,
          },
        });
        this.dropped -= dropped;
      }
      while (this.buffer.length > 0) {
        const events = this.buffer.slice(0, BATCH);
        await this.db.operationEvent.createMany({
          data: events.map((e) => ({ operationId: this.operationId, ...e })),
        });
        // Only what was written leaves the buffer (new events may have arrived meanwhile).
        this.buffer.splice(0, events.length);
        this.written += events.length;
      }
      if (this.written > this.maxEvents) {
        await this.db.$executeRaw`
          DELETE FROM operation_events WHERE operation_id = ${this.operationId}::uuid AND id <= (
            SELECT id FROM operation_events WHERE operation_id = ${this.operationId}::uuid
            ORDER BY id DESC OFFSET ${this.maxEvents} LIMIT 1)`;
        this.written = this.maxEvents;
      }
      const progress = this.progress;
      if (progress) {
        await this.db.operation.update({
          where: { id: this.operationId },
          data: { progressDone: progress.done, progressExpected: progress.expected },
        });
        if (this.progress === progress) this.progress = null;
      }
      if (this.failures > 0) {
        this.logger?.info({ operationId: this.operationId, failures: this.failures }, "events written again");
        this.failures = 0;
      }
    } catch (e) {
      // Kept: the next flush tries again. Said once, and then every 20 failures.
      if (this.failures++ % 20 === 0) {
        this.logger?.warn(
          { err: e, operationId: this.operationId, pending: this.buffer.length },
          "writing events failed; keeping them and retrying",
        );
      }
    }
  }

  /**
   * Stops the timer and writes what is left, retrying for up to `retryForMs` while the database fails.
   * Returns the number of events that could not be written.
   */
  async close(retryForMs = 10_000): Promise<number> {
    clearInterval(this.timer);
    const deadline = Date.now() + retryForMs;
    for (;;) {
      await this.flush();
      if ((this.buffer.length === 0 && !this.progress && this.dropped === 0) || Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    return this.buffer.length;
  }
}
