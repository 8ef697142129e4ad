import type { Metadata } from "next";
import Link from "next/link";
import { AUDIT_ACTIONS, AUDIT_OUTCOMES } from "../../features/audit/audit-log";
import { AUDIT_PAGE_SIZE, auditFilterSchema, listAudit } from "../../features/audit/queries";
import { TableHead } from "../../features/environments/components/table-head";
import { requirePrincipal } from "../../server/identity";

export const metadata: Metadata = { title: "Audit log" };
export const dynamic = "force-dynamic";

const field = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm";
const OUTCOME_STYLE: Record<string, string> = {
  accepted: "bg-emerald-50 text-emerald-800 border-emerald-200",
  refused: "bg-amber-50 text-amber-900 border-amber-200",
  failed: "bg-rose-50 text-rose-800 border-rose-200",
};

/** Admins only: who did or tried what, when, on which environment, from where; filters and CSV export. */
export default async function AuditPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const principal = await requirePrincipal("/audit");
  if (principal.role !== "admin") {
    return (
      <p
        role="alert"
        className="rounded-md border border-amber-200 bg-amber-50 px-4 py-3 text-sm text-amber-900"
      >
        Only admins can read the audit log.
      </p>
    );
  }
  const raw = await searchParams;
  const filter = auditFilterSchema.parse(raw);
  const { items, total } = await listAudit(filter);
  const query = new URLSearchParams(
    Object.entries({ ...filter, page: undefined }).filter(
      (kv): kv is [string, string] => typeof kv[1] === "string",
    ),
  );
  const first = (filter.page - 1) * AUDIT_PAGE_SIZE;
  const pageHref = (page: number) =>
    `/audit?${new URLSearchParams({ ...Object.fromEntries(query), page: String(page) })}`;

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight">Audit log</h1>
          <p className="mt-1 text-sm text-slate-600">
            Every request, refusal (with its reason), cancel and sign-in. Entries are never changed or
            deleted.
          </p>
        </div>
        <a
          href={`/audit/export?${query}`}
          className="rounded-md border border-slate-300 bg-white px-3 py-2 text-sm font-medium text-slate-800 hover:bg-slate-50"
        >
          Export CSV
        </a>
      </div>

      <form
        method="get"
        aria-label="Audit filters"
        className="grid gap-3 rounded-lg border border-slate-200 bg-white p-4 sm:grid-cols-3 lg:grid-cols-7"
      >
        <div className="lg:col-span-2">
          <label htmlFor="actor" className="block text-xs font-medium text-slate-600">
            Who
          </label>
          <input
            id="actor"
            name="actor"
            defaultValue={filter.actor ?? ""}
            placeholder="e-mail contains"
            className={field}
          />
        </div>
        <div>
          <label htmlFor="environment" className="block text-xs font-medium text-slate-600">
            Environment
          </label>
          <input
            id="environment"
            name="environment"
            defaultValue={filter.environment ?? ""}
            className={field}
          />
        </div>
        <div>
          <label htmlFor="action" className="block text-xs font-medium text-slate-600">
            Action
          </label>
          <select id="action" name="action" defaultValue={filter.action ?? ""} className={field}>
            <option value="">Any</option>
            {AUDIT_ACTIONS.map((a) => (
              <option key={a}>{a}</option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="outcome" className="block text-xs font-medium text-slate-600">
            Outcome
          </label>
          <select id="outcome" name="outcome" defaultValue={filter.outcome ?? ""} className={field}>
            <option value="">Any</option>
            {AUDIT_OUTCOMES.map((o) => (
              <option key={o}>{o}</option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="from" className="block text-xs font-medium text-slate-600">
            From (UTC)
          </label>
          <input id="from" name="from" type="date" defaultValue={filter.from ?? ""} className={field} />
        </div>
        <div>
          <label htmlFor="to" className="block text-xs font-medium text-slate-600">
            To (UTC)
          </label>
          <input id="to" name="to" type="date" defaultValue={filter.to ?? ""} className={field} />
        </div>
        <div className="flex items-end gap-2 sm:col-span-3 lg:col-span-7">
          <button
            type="submit"
            className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500"
          >
            Apply filters
          </button>
          <Link href="/audit" className="rounded-md px-2 py-1.5 text-sm text-slate-700 underline">
            Clear
          </Link>
        </div>
      </form>

      {items.length === 0 ? (
        <p className="rounded-lg border border-dashed border-slate-300 bg-white p-8 text-center text-sm">
          No entries match.
        </p>
      ) : (
        <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
          <table className="min-w-full divide-y divide-slate-200 text-sm" data-testid="audit-table">
            <TableHead
              labels={["When (UTC)", "Who", "What", "Environment", "From"]}
              className="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-600"
              cellClassName="px-3 py-2"
            />
            <tbody className="divide-y divide-slate-100">
              {items.map((e) => (
                <tr
                  key={e.id.toString()}
                  data-testid="audit-row"
                  data-action={e.action}
                  data-outcome={e.outcome}
                >
                  <td className="whitespace-nowrap px-3 py-2 tabular-nums text-slate-700">
                    {e.at.toISOString().replace("T", " ").slice(0, 19)}
                  </td>
                  <td className="px-3 py-2">
                    <span className="block break-all text-slate-800">{e.actor}</span>
                    {e.actorRole && <span className="text-xs text-slate-600">{e.actorRole}</span>}
                  </td>
                  <td className="px-3 py-2">
                    <span className="font-medium">{e.action}</span>{" "}
                    <span
                      className={`rounded border px-1.5 py-0.5 text-xs ${OUTCOME_STYLE[e.outcome] ?? ""}`}
                    >
                      {e.outcome}
                    </span>
                    {e.reason && <span className="mt-1 block text-xs text-slate-700">{e.reason}</span>}
                  </td>
                  <td className="px-3 py-2 text-slate-700">{e.environment ?? "—"}</td>
                  <td className="px-3 py-2 font-mono text-xs text-slate-700">{e.address ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <nav
            aria-label="Pages"
            className="flex items-center justify-between border-t border-slate-200 px-4 py-3 text-sm"
          >
            <p className="text-slate-600">
              {first + 1}–{first + items.length} of {total}
            </p>
            <div className="flex gap-2">
              {filter.page > 1 && (
                <Link
                  href={pageHref(filter.page - 1)}
                  className="rounded-md border border-slate-300 px-3 py-1 hover:bg-slate-50"
                >
                  Newer
                </Link>
              )}
              {first + items.length < total && (
                <Link
                  href={pageHref(filter.page + 1)}
                  className="rounded-md border border-slate-300 px-3 py-1 hover:bg-slate-50"
                >
                  Older
                </Link>
              )}
            </div>
          </nav>
        </div>
      )}
    </div>
  );
}
