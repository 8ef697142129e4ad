// One poller per watched operation, shared by every viewer of it in this process: each poll reads the
// operation's progress and the events written since the last poll (two indexed queries), whatever the
// number of viewers, and hands them to each viewer from its own position. A viewer resuming from an older
// position than the poller keeps in memory reads the gap once, by itself. The number of viewers per
// process is capped: past the cap `subscribe` refuses (the route answers 503 and the browser retries).
import { isOperationActive, type OperationStatus } from "../shared/status";

export interface FeedEvent {
  id: bigint;
  type: string;
  severity: string | null;
  message: string;
}

export interface FeedProgress {
  status: OperationStatus;
  done: number;
  expected: number;
  error: string | null;
}

/** Where a feed reads from (the database in the web app; anything in tests). */
export interface FeedSource {
  progress(operationId: string): Promise<FeedProgress | null>;
  /** Events with id > `afterId`, oldest first, at most `take`. */
  eventsAfter(operationId: string, afterId: bigint, take: number): Promise<FeedEvent[]>;
  /** The newest `take` events, oldest first. */
  latestEvents(operationId: string, take: number): Promise<FeedEvent[]>;
}

export interface Viewer {
  event(event: FeedEvent): void;
  progress(progress: FeedProgress): void;
  /** The operation is over (its final progress), or gone (null). The viewer is unsubscribed. */
  end(progress: FeedProgress | null): void;
  /** A read failed; the feed keeps trying. */
  error?(error: unknown): void;
}

export interface FeedOptions {
  pollMs?: number;
  /** Events kept in memory per operation for viewers that join late or resume. */
  tailSize?: number;
  maxViewers: number;
}

const PAGE = 500;

interface ViewerState {
  /** Last event id handed to this viewer; undefined: a new viewer, who gets the tail. */
  cursor: bigint | undefined;
  lastProgress: string;
}

class Feed {
  readonly viewers = new Map<Viewer, ViewerState>();
  private tail: FeedEvent[] = [];
  /** Older events than the tail's first may exist in the database. */
  private truncated = false;
  private last = 0n;
  private loaded = false;
  private running = false;
  /** Ended (operation over or gone): new viewers get a new feed. */
  closed = false;
  private wake?: () => void;

  constructor(
    private readonly operationId: string,
    private readonly source: FeedSource,
    private readonly pollMs: number,
    private readonly tailSize: number,
    private readonly onIdle: () => void,
  ) {}

  add(viewer: Viewer, cursor: bigint | undefined): void {
    this.viewers.set(viewer, { cursor, lastProgress: "" });
    if (!this.running) {
      this.running = true;
      void this.loop();
    } else this.wake?.(); // a new viewer gets what there is without waiting for the next poll
  }

  remove(viewer: Viewer): void {
    this.viewers.delete(viewer);
    if (this.viewers.size === 0) this.wake?.();
  }

  private async loop(): Promise<void> {
    try {
      while (this.viewers.size > 0) {
        try {
          if (!(await this.poll())) break;
        } catch (error) {
          for (const v of this.viewers.keys()) v.error?.(error);
        }
        if (this.viewers.size === 0) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.pollMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    } finally {
      this.running = false;
      // A viewer that came while the loop was leaving gets it started again.
      if (!this.closed && this.viewers.size > 0) {
        this.running = true;
        void this.loop();
      } else this.onIdle();
    }
  }

  /** One poll: read, hand out. False when the operation is over (every viewer has been ended). */
  private async poll(): Promise<boolean> {
    // Progress first: an operation seen finished has written all its events (the worker flushes them
    // before it records the result), so the events read next are complete.
    const progress = await this.source.progress(this.operationId);
    if (!progress) {
      this.endAll(null);
      return false;
    }
    await this.readNew();
    for (const [viewer, state] of [...this.viewers]) {
      await this.catchUp(viewer, state);
      if (!this.viewers.has(viewer)) continue;
      for (const e of this.tail) {
        if (state.cursor === undefined || e.id > state.cursor) {
          viewer.event(e);
          state.cursor = e.id;
        }
      }
      state.cursor ??= this.last;
      const key = `${progress.status}:${progress.done}:${progress.expected}:${progress.error ?? ""}`;
      if (key !== state.lastProgress && isOperationActive(progress.status)) viewer.progress(progress);
      state.lastProgress = key;
    }
    if (!isOperationActive(progress.status)) {
      this.endAll(progress);
      return false;
    }
    return true;
  }

  private async readNew(): Promise<void> {
    if (!this.loaded) {
      this.tail = await this.source.latestEvents(this.operationId, this.tailSize);
      this.truncated = this.tail.length === this.tailSize;
      this.last = this.tail.at(-1)?.id ?? 0n;
      this.loaded = true;
      return;
    }
    for (;;) {
      const page = await this.source.eventsAfter(this.operationId, this.last, PAGE);
      if (page.length === 0) break;
      this.tail.push(...page);
      this.last = page.at(-1)?.id ?? this.last;
      if (page.length < PAGE) break;
    }
    if (this.tail.length > this.tailSize) {
      this.tail.splice(0, this.tail.length - this.tailSize);
      this.truncated = true;
    }
  }

  /** A viewer resuming from before the tail reads the gap from the database. */
  private async catchUp(viewer: Viewer, state: ViewerState): Promise<void> {
    const first = this.tail[0];
    if (state.cursor === undefined || !this.truncated || !first || state.cursor >= first.id) return;
    for (;;) {
      const page = await this.source.eventsAfter(this.operationId, state.cursor, PAGE);
      for (const e of page) {
        if (e.id >= first.id) return;
        viewer.event(e);
        state.cursor = e.id;
      }
      if (page.length < PAGE) return;
    }
  }

  private endAll(progress: FeedProgress | null): void {
    this.closed = true;
    const viewers = [...this.viewers.keys()];
    this.viewers.clear();
    for (const v of viewers) v.end(progress);
  }
}

export class OperationFeeds {
  private readonly feeds = new Map<string, Feed>();
  private viewerCount = 0;
  rejected = 0;

  constructor(
    private readonly source: FeedSource,
    private readonly options: FeedOptions,
  ) {}

  /** Open viewers (streams) in this process. */
  get viewers(): number {
    return this.viewerCount;
  }

  /** Operations being polled. */
  get activeFeeds(): number {
    return this.feeds.size;
  }

  /**
   * Starts handing `operationId`'s events after `after` (undefined: the latest ones) and progress to
   * `viewer`. Returns the unsubscribe function, or null when this process already serves its maximum.
   */
  subscribe(operationId: string, after: bigint | undefined, viewer: Viewer): (() => void) | null {
    if (this.viewerCount >= this.options.maxViewers) {
      this.rejected++;
      return null;
    }
    let feed = this.feeds.get(operationId);
    if (!feed || feed.closed) {
      const created = new Feed(
        operationId,
        this.source,
        this.options.pollMs ?? 500,
        this.options.tailSize ?? 500,
        () => {
          if (this.feeds.get(operationId) === created) this.feeds.delete(operationId);
        },
      );
      feed = created;
      this.feeds.set(operationId, feed);
    }
    this.viewerCount++;
    let subscribed = true;
    const target = feed;
    const unsubscribe = () => {
      if (!subscribed) return;
      subscribed = false;
      this.viewerCount--;
      target.remove(wrapped);
    };
    // Ending unsubscribes: the count stays right however the stream closes.
    const wrapped: Viewer = {
      event: (e) => viewer.event(e),
      progress: (p) => viewer.progress(p),
      end: (p) => {
        unsubscribe();
        viewer.end(p);
      },
      error: (e) => viewer.error?.(e),
    };
    feed.add(wrapped, after);
    return unsubscribe;
  }
}
