import type { Metadata } from "next";
import { TableHead } from "../../features/environments/components/table-head";
import { CreateWebhookForm, WebhookButtons } from "../../features/webhooks/components/webhook-forms";
import { knownTeams, listWebhooks } from "../../features/webhooks/webhooks";
import { db } from "../../server/db";
import { config } from "../../server/env";
import { requirePrincipal } from "../../server/identity";

export const metadata: Metadata = { title: "Webhooks" };
export const dynamic = "force-dynamic";

const STATUS_STYLE: Record<string, string> = {
  delivered: "bg-emerald-50 text-emerald-800 border-emerald-200",
  pending: "bg-slate-100 text-slate-700 border-slate-300",
  retrying: "bg-amber-50 text-amber-900 border-amber-200",
  failed: "bg-rose-50 text-rose-800 border-rose-200",
};
const when = (d: Date) => d.toISOString().replace("T", " ").slice(0, 19);

/** Team webhooks: called with a signed POST when an operation on one of the team's environments finishes. */
export default async function WebhooksPage() {
  const principal = await requirePrincipal("/webhooks");
  const intro = (
    <div>
      <h1 className="text-2xl font-semibold tracking-tight">Webhooks</h1>
      <p className="mt-1 max-w-3xl text-sm text-slate-600">
        A webhook is called (a JSON POST signed with HMAC-SHA256, header X-Portal-Signature) when an operation
        on one of its team’s environments finishes. Failed deliveries are retried up to{" "}
        {config().WEBHOOK_ATTEMPTS} times with growing pauses. Members manage their teams’ webhooks, admins
        every webhook.
      </p>
    </div>
  );
  if (principal.role === "viewer") {
    return (
      <div className="space-y-6">
        {intro}
        <p
          role="alert"
          className="rounded-md border border-amber-200 bg-amber-50 px-4 py-3 text-sm text-amber-900"
        >
          You have read-only access (viewer): you cannot manage webhooks.
        </p>
      </div>
    );
  }
  const [hooks, teams] = await Promise.all([listWebhooks(db(), principal), knownTeams(db(), principal)]);
  const admin = principal.role === "admin";
  return (
    <div className="space-y-8">
      {intro}
      <section className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
        {teams.length === 0 && !admin ? (
          <p className="text-sm text-slate-700">
            You are in no team, so there are no team webhooks for you to manage (ask an admin for a
            portal-wide one).
          </p>
        ) : (
          <CreateWebhookForm teams={teams} allowAll={admin} />
        )}
      </section>
      <section aria-labelledby="webhooks-heading" className="space-y-4">
        <h2 id="webhooks-heading" className="text-lg font-semibold">
          {admin ? "All webhooks" : "Your teams’ webhooks"}
        </h2>
        {hooks.length === 0 && (
          <p className="rounded-lg border border-dashed border-slate-300 bg-white p-8 text-center text-sm">
            No webhooks yet.
          </p>
        )}
        {hooks.map((h) => (
          <article
            key={h.id}
            aria-labelledby={`webhook-${h.id}`}
            className="space-y-3 rounded-lg border border-slate-200 bg-white p-4 shadow-sm"
            data-testid="webhook"
            data-url={h.url}
          >
            <div>
              <h3 id={`webhook-${h.id}`} className="break-all font-mono text-sm font-semibold">
                {h.url}
              </h3>
              <p className="text-sm text-slate-700">
                {h.team === null ? "Every environment" : `Team ${h.team}`} ·{" "}
                {h.enabled ? "enabled" : <strong>disabled</strong>} · added by {h.createdBy} on{" "}
                {h.createdAt.toISOString().slice(0, 10)}
                {h.description && ` · ${h.description}`}
              </p>
            </div>
            <WebhookButtons id={h.id} enabled={h.enabled} url={h.url} />
            {h.deliveries.length === 0 ? (
              <p className="text-sm text-slate-600">No deliveries yet.</p>
            ) : (
              <div className="overflow-x-auto">
                <table className="min-w-full divide-y divide-slate-200 text-sm" data-testid="delivery-log">
                  <caption className="py-1 text-left text-sm font-medium text-slate-800">
                    Recent deliveries (newest first)
                  </caption>
                  <TableHead
                    labels={["When (UTC)", "Event", "Status", "Attempts", "Answer"]}
                    className="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-600"
                    cellClassName="px-3 py-2"
                  />
                  <tbody className="divide-y divide-slate-100">
                    {h.deliveries.map((d) => {
                      const payload = d.payload as { operation?: { kind?: string; status?: string } } | null;
                      return (
                        <tr key={d.id} data-testid="delivery" data-status={d.status} data-event={d.event}>
                          <td className="whitespace-nowrap px-3 py-2 tabular-nums text-slate-700">
                            {when(d.createdAt)}
                          </td>
                          <td className="px-3 py-2 text-slate-800">
                            {d.event}
                            {d.environment && (
                              <span className="block text-xs text-slate-600">
                                {d.environment}
                                {payload?.operation?.kind &&
                                  `: ${payload.operation.kind} ${payload.operation.status ?? ""}`}
                              </span>
                            )}
                          </td>
                          <td className="px-3 py-2">
                            <span
                              className={`rounded border px-1.5 py-0.5 text-xs ${STATUS_STYLE[d.status] ?? ""}`}
                            >
                              {d.status}
                            </span>
                          </td>
                          <td className="px-3 py-2 tabular-nums text-slate-700">{d.attempts}</td>
                          <td className="px-3 py-2 text-slate-700">
                            {d.responseStatus !== null && (
                              <span className="font-mono">HTTP {d.responseStatus}</span>
                            )}
                            {d.durationMs !== null && <span className="text-xs"> in {d.durationMs} ms</span>}
                            {d.error && (
                              <span className="block break-all text-xs text-rose-800">{d.error}</span>
                            )}
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            )}
          </article>
        ))}
      </section>
    </div>
  );
}
