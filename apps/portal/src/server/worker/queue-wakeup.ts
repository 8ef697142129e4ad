// Wakes the worker the moment an operation is queued: LISTEN on the queue's channel over one dedicated
// connection (pg-boss alone polls, at best every 0.5 s). The connection is re-opened after a failure (a
// PostgreSQL restart); on every (re)connect the worker is woken too, since notifications sent while it was
// gone are lost. The worker's own poll remains the fallback.
import pg from "pg";
import type { Logger } from "../logger";

export class QueueWakeup {
  private client?: pg.Client;
  private stopped = false;
  private retryTimer?: NodeJS.Timeout;
  private retryMs = 500;

  constructor(
    private readonly databaseUrl: string,
    private readonly channel: string,
    private readonly onWake: (payload: string) => void,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.connect().catch((e) => {
      this.logger.warn({ err: e }, "could not listen for queued operations; polling until it works");
      this.scheduleReconnect();
    });
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl, keepAlive: true });
    client.on("error", (e) => {
      if (this.stopped) return;
      this.logger.warn({ err: e }, "queue listener connection failed; reconnecting");
      this.drop(client);
    });
    client.on("end", () => {
      if (!this.stopped) this.drop(client);
    });
    client.on("notification", (n) => {
      if (n.channel === this.channel) this.onWake(n.payload ?? "");
    });
    await client.connect();
    await client.query(`LISTEN "${this.channel.replaceAll('"', '""')}"`);
    if (this.stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.retryMs = 500;
    this.onWake("");
  }

  private drop(client: pg.Client): void {
    if (this.client === client) this.client = undefined;
    client.end().catch(() => {});
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect().catch((e) => {
        this.logger.debug({ err: e }, "queue listener still cannot connect");
        this.scheduleReconnect();
      });
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, 10_000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.client?.end().catch(() => {});
    this.client = undefined;
  }
}
