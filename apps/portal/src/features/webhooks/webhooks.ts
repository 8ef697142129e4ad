// Webhooks of a team (or of every environment): create (the signing secret is returned once), enable, disable,
// rotate the secret, delete, send a test delivery; and the delivery log. Authorised here (webhookRefusal) and
// audited. Free of Next.js.
import type { PrismaClient, Webhook } from "@platform/db/client";
import type { Principal } from "../../shared/access";
import { webhookRefusal } from "../../shared/webhook-schemas";
import { type AuditAction, writeAudit } from "../audit/audit-log";
import { newWebhookSecret } from "./signature";
import { type UrlPolicy, webhookUrlRefusal } from "./url-policy";

export type WebhookResult =
  | { ok: true; message: string; secret?: string; webhook?: Webhook }
  | { ok: false; message: string; field?: string };

interface Actor {
  principal: Principal;
  address?: string;
}

async function audited(
  db: PrismaClient,
  actor: Actor,
  action: AuditAction,
  result: WebhookResult,
  details: Record<string, unknown>,
): Promise<WebhookResult> {
  await writeAudit(db, {
    actor: actor.principal,
    action,
    outcome: result.ok ? "accepted" : "refused",
    reason: result.ok ? undefined : result.message,
    address: actor.address,
    details,
  });
  return result;
}

export async function createWebhook(
  db: PrismaClient,
  actor: Actor,
  input: { team: string | null; url: string; description?: string },
  policy: UrlPolicy,
): Promise<WebhookResult> {
  const details = { team: input.team, url: input.url };
  const denied = webhookRefusal(actor.principal, input.team);
  if (denied)
    return await audited(db, actor, "webhook-create", { ok: false, message: denied, field: "team" }, details);
  const badUrl = await webhookUrlRefusal(input.url, policy);
  if (badUrl) return { ok: false, message: badUrl, field: "url" }; // form input: not audited, like the pages'
  const secret = newWebhookSecret();
  const webhook = await db.webhook.create({
    data: {
      team: input.team,
      url: input.url,
      description: input.description ?? null,
      secret,
      createdBy: actor.principal.id,
    },
  });
  return await audited(
    db,
    actor,
    "webhook-create",
    {
      ok: true,
      message: `Webhook added for ${input.team === null ? "every environment" : `team ${input.team}`}. Copy its signing secret now: it will not be shown again.`,
      secret,
      webhook,
    },
    { ...details, webhookId: webhook.id },
  );
}

/** Enable, disable, rotate the secret, delete, or queue a test delivery ("ping"). */
export async function changeWebhook(
  db: PrismaClient,
  actor: Actor,
  id: string,
  intent: "ping" | "enable" | "disable" | "rotate" | "delete",
): Promise<WebhookResult> {
  const hook = await db.webhook.findUnique({ where: { id } });
  if (!hook) return { ok: false, message: "This webhook no longer exists: reload the page." };
  const details = { webhookId: id, team: hook.team, url: hook.url, change: intent };
  const action: AuditAction = intent === "delete" ? "webhook-delete" : "webhook-update";
  const denied = webhookRefusal(actor.principal, hook.team);
  if (denied) return await audited(db, actor, action, { ok: false, message: denied }, details);
  switch (intent) {
    case "ping":
      await db.webhookDelivery.create({ data: { webhookId: id, event: "ping" } });
      return { ok: true, message: "A test delivery (event ping) was queued; see the log below in a moment." };
    case "enable":
    case "disable":
      await db.webhook.update({ where: { id }, data: { enabled: intent === "enable" } });
      return await audited(
        db,
        actor,
        action,
        {
          ok: true,
          message: intent === "enable" ? "Webhook enabled." : "Webhook disabled: nothing is sent to it.",
        },
        details,
      );
    case "rotate": {
      const secret = newWebhookSecret();
      await db.webhook.update({ where: { id }, data: { secret } });
      return await audited(
        db,
        actor,
        action,
        { ok: true, message: "New signing secret: copy it now, the old one no longer signs.", secret },
        details,
      );
    }
    case "delete":
      await db.webhook.delete({ where: { id } });
      return await audited(db, actor, action, { ok: true, message: "Webhook deleted." }, details);
  }
}

/** The webhooks a person can manage: admins all, members their teams'. Viewers none. */
export async function listWebhooks(db: PrismaClient, p: Principal) {
  if (p.role === "viewer") return [];
  return await db.webhook.findMany({
    where: p.role === "admin" ? {} : { team: { in: p.teams } },
    orderBy: [{ team: "asc" }, { createdAt: "asc" }],
    include: { deliveries: { orderBy: { createdAt: "desc" }, take: 20 } },
  });
}

/** Teams an admin can pick: every team seen on an environment or a webhook, and their own. */
export async function knownTeams(db: PrismaClient, p: Principal): Promise<string[]> {
  if (p.role !== "admin") return p.teams;
  const [envs, hooks] = await Promise.all([
    db.environment.findMany({ where: { team: { not: null } }, distinct: ["team"], select: { team: true } }),
    db.webhook.findMany({ where: { team: { not: null } }, distinct: ["team"], select: { team: true } }),
  ]);
  return [
    ...new Set([...p.teams, ...envs.map((e) => e.team as string), ...hooks.map((h) => h.team as string)]),
  ].sort();
}
