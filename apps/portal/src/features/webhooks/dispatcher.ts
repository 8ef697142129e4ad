// Webhook deliveries, run by the worker processes. A trigger on `operations` inserts one delivery row per
// matching webhook when an operation finishes (in the transaction that finishes it, whoever finishes it); the
// Webhooks page inserts "ping" rows. Every second this dispatcher hands rows not yet enqueued to
// pg-boss (job id = delivery id, so two workers sending the same row make one job), and pg-boss runs them:
// one signed POST per attempt, failures retried with exponential backoff (WEBHOOK_RETRY_SECONDS doubling, with
// jitter) up to WEBHOOK_ATTEMPTS attempts. Each attempt is written to the delivery row (the page's log).
import type { Prisma, PrismaClient } from "@platform/db/client";
import type PgBoss from "pg-boss";
import { createQueueRetrying } from "../../server/queue";
import { presentEnvironment, presentOperation } from "../api/present";
import { sendWebhook } from "./send";
import type { UrlPolicy } from "./url-policy";

export const WEBHOOK_QUEUE = "webhook-deliveries";

export interface WebhookSettings {
  attempts: number;
  retrySeconds: number;
  timeoutSeconds: number;
  policy: UrlPolicy;
  /** The portal's address, for links in the payload. */
  publicUrl: string;
  /** How often to look for new deliveries (default 1 s). */
  sweepMs?: number;
  log?: (line: string) => void;
}

interface DeliveryJob {
  deliveryId: string;
}

/** The JSON body of a delivery: built once (the first attempt) and sent unchanged by every retry. */
export async function deliveryPayload(
  db: PrismaClient,
  delivery: { id: string; event: string; operationId: string | null; createdAt: Date; webhookId: string },
  publicUrl: string,
): Promise<Record<string, unknown>> {
  const base = {
    id: delivery.id,
    event: delivery.event,
    createdAt: delivery.createdAt.toISOString(),
    portal: publicUrl,
  };
  if (delivery.event === "ping" || !delivery.operationId) {
    const hook = await db.webhook.findUnique({ where: { id: delivery.webhookId } });
    return {
      ...base,
      webhook: { id: delivery.webhookId, team: hook?.team ?? null },
      message: "A test delivery.",
    };
  }
  const op = await db.operation.findUnique({
    where: { id: delivery.operationId },
    include: { environment: { include: { lastOperation: true } } },
  });
  // Deliveries are made for environments' operations only (a network's has none); a row whose operation or
  // environment is gone reports what is left.
  const env = op?.environment;
  if (!op || !env) return { ...base, operation: { id: delivery.operationId }, environment: null };
  const { lastOperation: _last, ...environment } = presentEnvironment(env);
  return {
    ...base,
    environment: { ...environment, url: `${publicUrl}/environments/${encodeURIComponent(env.name)}` },
    operation: presentOperation(env.name, op),
  };
}

export class WebhookDispatcher {
  private timer?: NodeJS.Timeout;
  private sweeping = false;
  private stopped = false;
  private readonly log: (line: string) => void;

  constructor(
    private readonly db: PrismaClient,
    private readonly boss: PgBoss,
    private readonly s: WebhookSettings,
  ) {
    this.log = s.log ?? ((line) => console.log(`[webhooks] ${line}`));
  }

  async start(): Promise<void> {
    await createQueueRetrying(this.boss, WEBHOOK_QUEUE, {
      name: WEBHOOK_QUEUE,
      policy: "standard",
      retryLimit: this.s.attempts - 1,
      retryDelay: this.s.retrySeconds,
      retryBackoff: true,
      expireInSeconds: Math.max(60, this.s.timeoutSeconds * 3),
      retentionMinutes: 60 * 24,
    });
    for (let i = 0; i < 2; i++) {
      await this.boss.work<DeliveryJob>(
        WEBHOOK_QUEUE,
        { batchSize: 1, pollingIntervalSeconds: 0.5, includeMetadata: true },
        async ([job]) => {
          if (job) await this.attempt(job.data.deliveryId, job.retryCount, job.retryLimit);
        },
      );
    }
    this.timer = setInterval(() => void this.sweep(), this.s.sweepMs ?? 1000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.boss.offWork(WEBHOOK_QUEUE).catch(() => {});
  }

  /** Hands deliveries not yet enqueued to the queue. */
  async sweep(): Promise<number> {
    if (this.sweeping || this.stopped) return 0;
    this.sweeping = true;
    try {
      const pending = await this.db.webhookDelivery.findMany({
        where: { enqueuedAt: null },
        orderBy: { createdAt: "asc" },
        take: 50,
        select: { id: true },
      });
      for (const { id } of pending) {
        await this.boss.send(WEBHOOK_QUEUE, { deliveryId: id } satisfies DeliveryJob, {
          id,
          retryLimit: this.s.attempts - 1,
          retryDelay: this.s.retrySeconds,
          retryBackoff: true,
        });
        await this.db.webhookDelivery.updateMany({
          where: { id, enqueuedAt: null },
          data: { enqueuedAt: new Date() },
        });
      }
      return pending.length;
    } catch (e) {
      this.log(`sweep failed: ${e instanceof Error ? e.message : e}`);
      return 0;
    } finally {
      this.sweeping = false;
    }
  }

  /** One attempt; throws when it failed and pg-boss should retry (the last attempt marks it failed). */
  async attempt(deliveryId: string, retryCount: number, retryLimit: number): Promise<void> {
    const delivery = await this.db.webhookDelivery.findUnique({
      where: { id: deliveryId },
      include: { webhook: true },
    });
    if (!delivery || delivery.status === "delivered" || delivery.status === "failed") return;
    const last = retryCount >= retryLimit;
    if (!delivery.webhook.enabled) {
      await this.record(deliveryId, delivery.attempts, "failed", {
        status: null,
        error: "The webhook was disabled.",
        durationMs: 0,
      });
      return;
    }
    let payload = delivery.payload as Record<string, unknown> | null;
    if (!payload) {
      // Sent as stored (PostgreSQL's jsonb orders keys), so every attempt sends the same bytes.
      const stored = await this.db.webhookDelivery.update({
        where: { id: deliveryId },
        data: {
          payload: (await deliveryPayload(this.db, delivery, this.s.publicUrl)) as Prisma.InputJsonValue,
        },
      });
      payload = stored.payload as Record<string, unknown>;
    }
    const result = await sendWebhook({
      url: delivery.webhook.url,
      secret: delivery.webhook.secret,
      body: JSON.stringify(payload),
      event: delivery.event,
      deliveryId,
      policy: this.s.policy,
      timeoutMs: this.s.timeoutSeconds * 1000,
    });
    const status = result.ok ? "delivered" : last ? "failed" : "retrying";
    await this.record(deliveryId, delivery.attempts, status, result);
    if (!result.ok && !last) throw new Error(result.error ?? "delivery failed");
  }

  private async record(
    id: string,
    attemptsBefore: number,
    status: "delivered" | "retrying" | "failed",
    result: { status: number | null; error: string | null; durationMs: number },
  ): Promise<void> {
    const now = new Date();
    await this.db.webhookDelivery.update({
      where: { id },
      data: {
        status,
        attempts: attemptsBefore + 1,
        responseStatus: result.status,
        error: result.error?.slice(0, 1000) ?? null,
        durationMs: result.durationMs,
        lastAttemptAt: now,
        ...(status === "delivered" ? { deliveredAt: now } : {}),
      },
    });
  }
}
