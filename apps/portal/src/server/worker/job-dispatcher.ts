// Takes jobs from the worker's queues (its host's first, then the shared one) while it has free slots. It
// fetches when woken (a NOTIFY from a sender, a finished operation) and on a short poll as the fallback, so
// an operation starts within milliseconds of its request instead of pg-boss's half-second polling.
import type PgBoss from "pg-boss";
import type { Logger } from "../logger";
import type { OperationJob } from "../queue";

export interface FetchedJob {
  id: string;
  operationId: string;
  queue: string;
}

export interface DispatcherOptions {
  boss: PgBoss;
  /** In order of preference. */
  queues: string[];
  freeSlots: () => number;
  /** Must take its slot synchronously (freeSlots() drops before it returns). */
  launch: (job: FetchedJob) => void;
  pollMs: number;
  logger: Logger;
}

export class JobDispatcher {
  private filling = false;
  private again = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;

  constructor(private readonly o: DispatcherOptions) {}

  start(): void {
    this.timer = setInterval(() => this.wake(), this.o.pollMs);
    this.wake();
  }

  /** Fetch now (coalesced: a wake during a fetch round makes it go round once more). */
  wake(): void {
    if (this.stopped) return;
    if (this.filling) {
      this.again = true;
      return;
    }
    void this.fill();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private async fill(): Promise<void> {
    this.filling = true;
    try {
      do {
        this.again = false;
        while (!this.stopped && this.o.freeSlots() > 0) {
          const job = await this.fetchOne();
          if (!job) break;
          this.o.launch(job); // also when stopping meanwhile: launch hands the job back
        }
      } while (this.again && !this.stopped);
    } catch (e) {
      this.o.logger.warn({ err: e }, "fetching jobs failed");
    } finally {
      this.filling = false;
    }
  }

  private async fetchOne(): Promise<FetchedJob | null> {
    for (const queue of this.o.queues) {
      const [job] = await this.o.boss.fetch<OperationJob>(queue, { batchSize: 1 });
      if (job) return { id: job.id, operationId: job.data.operationId, queue };
    }
    return null;
  }
}
