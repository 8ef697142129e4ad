import Link from "next/link";
import { usd } from "../features/cost/estimate";
import { listCostTotal } from "../features/cost/list-total";
import { AutoRefresh } from "../features/environments/components/auto-refresh";
import { DriftBadge } from "../features/environments/components/drift-badge";
import { StatusBadge } from "../features/environments/components/status-badge";
import { TableHead } from "../features/environments/components/table-head";
import { age, frontendUrlOf } from "../features/environments/format";
import { listEnvironments, PAGE_SIZE } from "../features/environments/queries";
import { config } from "../server/env";
import { requirePrincipal } from "../server/identity";
import { listFilterSchema } from "../shared/environment-schemas";
import { ENVIRONMENT_STATUSES, STATUS_LABEL } from "../shared/status";
import { syncOf } from "../shared/sync";
import { cacheKindOf, describeTierOptions, storedTierOptions } from "../shared/tier-options";

export const dynamic = "force-dynamic";

export default async function EnvironmentListPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const params = await searchParams;
  const principal = await requirePrincipal("/");
  const filter = listFilterSchema.parse(params);
  const [{ items: environments, total }, cost] = await Promise.all([
    listEnvironments(filter, principal.id),
    listCostTotal(filter, principal.id),
  ]);
  const first = (filter.page - 1) * PAGE_SIZE;
  const pageHref = (page: number) => {
    const q = new URLSearchParams({
      status: filter.status,
      ...(filter.mine ? { mine: "1" } : {}),
      page: String(page),
    });
    return `/?${q}`;
  };
  const removed = typeof params.removed === "string" ? params.removed : undefined;

  return (
    <div className="space-y-6">
      <AutoRefresh seconds={config().LIST_REFRESH_SECONDS} />
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight">Environments</h1>
          <p className="mt-1 text-sm text-slate-600">
            Voting-app environments: create, scale and tear them down.
          </p>
        </div>
        {principal.role !== "viewer" && (
          <Link
            href="/environments/new"
            className="rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white shadow-sm hover:bg-indigo-500"
          >
            New environment
          </Link>
        )}
      </div>

      {removed && (
        <p
          role="status"
          className="rounded-md border border-emerald-200 bg-emerald-50 px-4 py-2 text-sm text-emerald-800"
        >
          The record of “{removed}” was removed.
        </p>
      )}

      <form
        method="get"
        className="flex flex-wrap items-end gap-4 rounded-lg border border-slate-200 bg-white p-4"
        aria-label="Filters"
      >
        <div>
          <label htmlFor="status" className="block text-xs font-medium text-slate-600">
            Status
          </label>
          <select
            id="status"
            name="status"
            defaultValue={filter.status}
            className="mt-1 rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm"
          >
            <option value="active">All but destroyed</option>
            <option value="all">All</option>
            {ENVIRONMENT_STATUSES.map((s) => (
              <option key={s} value={s}>
                {STATUS_LABEL[s]}
              </option>
            ))}
          </select>
        </div>
        <label className="flex items-center gap-2 pb-1.5 text-sm text-slate-700">
          <input
            type="checkbox"
            name="mine"
            value="1"
            defaultChecked={filter.mine}
            className="h-4 w-4 rounded border-slate-300"
          />
          Only mine
        </label>
        <button
          type="submit"
          className="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50"
        >
          Apply
        </button>
      </form>

      <p className="text-sm text-slate-700" data-testid="list-cost" aria-live="polite">
        Estimated monthly cost of the environments this filter shows:{" "}
        <strong className="tabular-nums" data-testid="list-cost-total">
          {usd(cost.total)}
        </strong>{" "}
        <span className="text-slate-600">
          ({cost.aws} on AWS{cost.unpriced ? `, ${cost.unpriced} in regions without prices` : ""};{" "}
          {cost.local} local, which cost nothing; destroyed ones cost nothing)
        </span>
      </p>

      {environments.length === 0 ? (
        <div className="rounded-lg border border-dashed border-slate-300 bg-white p-10 text-center">
          <p className="font-medium">No environments match.</p>
          <p className="mt-1 text-sm text-slate-600">
            {principal.role !== "viewer" && (
              <>
                <Link href="/environments/new" className="text-indigo-700 underline">
                  Create one
                </Link>{" "}
                or{" "}
              </>
            )}
            change the filters.
          </p>
        </div>
      ) : (
        <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
          <table className="min-w-full divide-y divide-slate-200 text-sm" data-testid="environment-table">
            <TableHead
              labels={["Name", "Status", "Replicas", "Frontend", "Owner", "Last operation"]}
              className="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-600"
              cellClassName="px-3 py-3 lg:px-4"
            />
            <tbody className="divide-y divide-slate-100">
              {environments.map((e) => {
                const url = frontendUrlOf(e.outputs);
                const op = e.lastOperation;
                const sync = syncOf(e);
                return (
                  <tr key={e.id} data-testid={`env-row-${e.name}`} className="hover:bg-slate-50">
                    <td className="px-3 py-3 lg:px-4">
                      <Link
                        href={`/environments/${e.name}`}
                        className="whitespace-nowrap font-medium text-indigo-700 hover:underline"
                      >
                        {e.name}
                      </Link>
                      <span className="block whitespace-nowrap text-xs text-slate-600" data-testid="target">
                        {e.target}
                        {e.region ? ` · ${e.region}` : ""}
                      </span>
                      <TierSummary options={e.options} target={e.target} />
                    </td>
                    <td className="px-3 py-3 lg:px-4">
                      <span className="flex flex-wrap items-center gap-1">
                        <StatusBadge status={e.status} />
                        {sync.drifted && <DriftBadge reasons={sync.reasons} />}
                      </span>
                    </td>
                    <td className="px-3 py-3 tabular-nums text-slate-700 lg:px-4">
                      <Replicas
                        current={e.currentFrontendReplicas}
                        desired={e.desiredFrontendReplicas}
                        unit="web"
                      />
                      <Replicas
                        current={e.currentRedisReplicas}
                        desired={e.desiredRedisReplicas}
                        unit={cacheKindOf(storedTierOptions(e.options)) === "elasticache" ? "cache" : "redis"}
                      />
                    </td>
                    <td className="px-3 py-3 lg:px-4">
                      {url && e.status === "ready" ? (
                        <a
                          href={url}
                          target="_blank"
                          rel="noreferrer"
                          aria-label={`Open the frontend of ${e.name}`}
                          className="text-indigo-700 underline"
                        >
                          Open
                        </a>
                      ) : (
                        <span className="text-slate-500">{url ? "unavailable" : "—"}</span>
                      )}
                    </td>
                    <td className="px-3 py-3 lg:px-4">
                      <span className="block max-w-[11rem] truncate text-slate-700" title={e.owner}>
                        {e.owner}
                      </span>
                      {e.team && (
                        <span
                          className="block max-w-[11rem] truncate text-xs text-slate-600"
                          data-testid="team"
                        >
                          team {e.team}
                        </span>
                      )}
                      <span
                        className="block text-xs tabular-nums text-slate-600"
                        title={e.createdAt.toISOString()}
                      >
                        created {age(e.createdAt)} ago
                      </span>
                    </td>
                    <td className="px-3 py-3 lg:px-4">
                      {op ? (
                        <span className="flex flex-wrap items-center gap-x-2 gap-y-1">
                          <span className="text-slate-700">{op.kind}</span>
                          <StatusBadge status={op.status} />
                          {op.status === "running" && op.progressExpected > 0 && (
                            <span className="tabular-nums text-xs text-slate-600">
                              {op.progressDone}/{op.progressExpected}
                            </span>
                          )}
                        </span>
                      ) : (
                        "—"
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <nav
            aria-label="Pages"
            className="flex items-center justify-between border-t border-slate-200 px-4 py-3 text-sm"
          >
            <p className="text-slate-600" data-testid="list-range">
              {first + 1}–{first + environments.length} of {total}
            </p>
            <div className="flex gap-2">
              {filter.page > 1 && (
                <Link
                  href={pageHref(filter.page - 1)}
                  className="rounded-md border border-slate-300 px-3 py-1 hover:bg-slate-50"
                >
                  Previous
                </Link>
              )}
              {first + environments.length < total && (
                <Link
                  href={pageHref(filter.page + 1)}
                  className="rounded-md border border-slate-300 px-3 py-1 hover:bg-slate-50"
                >
                  Next
                </Link>
              )}
            </div>
          </nav>
        </div>
      )}
    </div>
  );
}

/** The cache and database options, when they are not the defaults (Redis on Fargate, no database). */
function TierSummary({ options, target }: { options: unknown; target: "local" | "aws" }) {
  const o = storedTierOptions(options);
  if (!o.cache && !o.database) return null;
  const d = describeTierOptions(o, target);
  const parts = [o.cache ? d.cache : undefined, o.database ? "PostgreSQL" : undefined].filter(Boolean);
  return (
    <span className="block whitespace-nowrap text-xs text-slate-600" data-testid="tier-options">
      {parts.join(" · ")}
    </span>
  );
}

/** One tier's replicas: current, and the desired count when an operation is changing it. */
function Replicas({ current, desired, unit }: { current: number | null; desired: number; unit: string }) {
  return (
    <span className="block whitespace-nowrap">
      {current ?? "–"}
      {current !== desired && <span className="text-slate-500"> → {desired}</span>} {unit}
    </span>
  );
}
