import type { Metadata } from "next";
import Link from "next/link";
import { TableHead } from "../../features/environments/components/table-head";
import { CreateTokenForm } from "../../features/tokens/components/create-token-form";
import { RevokeTokenButton } from "../../features/tokens/components/revoke-token-button";
import { listTokens, tokenState } from "../../features/tokens/tokens";
import { db } from "../../server/db";
import { config, publicUrl } from "../../server/env";
import { requirePrincipal } from "../../server/identity";

export const metadata: Metadata = { title: "Tokens" };
export const dynamic = "force-dynamic";

const STATE_STYLE = {
  active: "bg-emerald-50 text-emerald-800 border-emerald-200",
  expired: "bg-slate-100 text-slate-700 border-slate-300",
  revoked: "bg-rose-50 text-rose-800 border-rose-200",
};
const day = (d: Date) => d.toISOString().slice(0, 10);
const minute = (d: Date) => d.toISOString().replace("T", " ").slice(0, 16);

/** Personal access tokens for the API and the CLI: create (shown once), list with last use, revoke. */
export default async function TokensPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const principal = await requirePrincipal("/tokens");
  const c = config();
  const everyone = principal.role === "admin" && (await searchParams).all === "1";
  const tokens = await listTokens(db(), everyone ? null : principal.id);
  const now = new Date();
  return (
    <div className="space-y-8">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight">Personal access tokens</h1>
        <p className="mt-1 max-w-3xl text-sm text-slate-600">
          Tokens let scripts, CI pipelines and the <code className="font-mono">envctl</code> command line act
          as you through the{" "}
          <Link href="/api-reference" className="text-indigo-700 underline">
            API
          </Link>
          , with your current role. Only a hash is kept; every use is audited.
        </p>
      </div>

      <section className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
        <CreateTokenForm
          limits={{ maxDays: c.TOKEN_MAX_DAYS, defaultDays: c.TOKEN_DEFAULT_DAYS }}
          canWrite={principal.role !== "viewer"}
          portalUrl={publicUrl(c)}
        />
      </section>

      <section aria-labelledby="tokens-heading" className="space-y-3">
        <div className="flex flex-wrap items-end justify-between gap-3">
          <h2 id="tokens-heading" className="text-lg font-semibold">
            {everyone ? "Everyone's tokens" : "Your tokens"}
          </h2>
          {principal.role === "admin" && (
            <Link
              href={everyone ? "/tokens" : "/tokens?all=1"}
              className="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm text-slate-800 hover:bg-slate-50"
            >
              {everyone ? "Show only mine" : "Show everyone's (admins)"}
            </Link>
          )}
        </div>
        {tokens.length === 0 ? (
          <p className="rounded-lg border border-dashed border-slate-300 bg-white p-8 text-center text-sm">
            No tokens yet.
          </p>
        ) : (
          <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
            <table className="min-w-full divide-y divide-slate-200 text-sm" data-testid="tokens-table">
              <TableHead
                labels={[
                  "Name",
                  ...(everyone ? ["Owner"] : []),
                  "Access",
                  "Created",
                  "Expires",
                  "Last used",
                  "Status",
                  "Actions",
                ]}
                className="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-600"
                cellClassName="px-3 py-2"
              />
              <tbody className="divide-y divide-slate-100">
                {tokens.map((t) => {
                  const state = tokenState(t, now);
                  return (
                    <tr key={t.id} data-testid="token-row" data-token-name={t.name} data-state={state}>
                      <td className="px-3 py-2">
                        <span className="font-medium text-slate-900">{t.name}</span>
                        <span className="block font-mono text-xs text-slate-600">{t.tokenPrefix}…</span>
                      </td>
                      {everyone && <td className="break-all px-3 py-2 text-slate-700">{t.owner}</td>}
                      <td className="px-3 py-2 text-slate-700">
                        {t.scope === "write" ? "read, write" : "read"}
                      </td>
                      <td className="whitespace-nowrap px-3 py-2 tabular-nums text-slate-700">
                        {day(t.createdAt)}
                        {t.createdBy !== t.owner && (
                          <span className="block text-xs text-slate-600">by {t.createdBy}</span>
                        )}
                      </td>
                      <td className="whitespace-nowrap px-3 py-2 tabular-nums text-slate-700">
                        {day(t.expiresAt)}
                      </td>
                      <td className="px-3 py-2 tabular-nums text-slate-700" data-testid="token-last-used">
                        {t.lastUsedAt ? (
                          <>
                            {minute(t.lastUsedAt)} UTC
                            {t.lastUsedAddress && (
                              <span className="block font-mono text-xs text-slate-600">
                                {t.lastUsedAddress}
                              </span>
                            )}
                          </>
                        ) : (
                          "never"
                        )}
                      </td>
                      <td className="px-3 py-2">
                        <span className={`rounded border px-1.5 py-0.5 text-xs ${STATE_STYLE[state]}`}>
                          {state}
                        </span>
                      </td>
                      <td className="px-3 py-2">
                        {state === "active" ? <RevokeTokenButton id={t.id} name={t.name} /> : "—"}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
