// A monthly cost estimate: its total, the line items that make it, and what it assumes. Plain markup (no hooks),
// so server pages and the client create form both render it.
import type { EstimateResult } from "../estimate";
import { usd } from "../estimate";

export function CostEstimateView({
  result,
  title = "Estimated monthly cost",
  headingId,
  note,
  testId = "cost-estimate",
  live = false,
}: {
  result: EstimateResult | null;
  title?: string;
  headingId: string;
  /** A sentence under the total (e.g. how the network is shared). */
  note?: string;
  testId?: string;
  /** Announce the total when it changes (the create form recomputes it as you type). */
  live?: boolean;
}) {
  return (
    <section
      aria-labelledby={headingId}
      className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm"
      data-testid={testId}
    >
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 id={headingId} className="text-base font-semibold">
          {title}
        </h2>
        {result?.ok && (
          <p
            className="text-lg font-semibold tabular-nums text-slate-900"
            data-testid={`${testId}-total`}
            aria-live={live ? "polite" : undefined}
          >
            {usd(result.estimate.monthlyTotal)}
            <span className="text-xs font-normal text-slate-600"> / month</span>
          </p>
        )}
      </div>
      {result === null ? (
        <p className="mt-2 text-sm text-slate-600" data-testid={`${testId}-none`}>
          No cloud cost: local environments run as processes on the portal's machine.
        </p>
      ) : !result.ok ? (
        <p role="status" className="mt-2 text-sm text-amber-800" data-testid={`${testId}-unavailable`}>
          No estimate: {result.reason}
        </p>
      ) : (
        <>
          {note && <p className="mt-1 text-xs text-slate-600">{note}</p>}
          <table className="mt-3 w-full text-sm" data-testid={`${testId}-lines`}>
            <caption className="sr-only">What the estimate is made of</caption>
            <thead>
              <tr className="text-left text-xs uppercase tracking-wide text-slate-600">
                <th scope="col" className="pb-1 font-medium">
                  Part
                </th>
                <th scope="col" className="pb-1 text-right font-medium">
                  Per month
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {result.estimate.lineItems.map((l) => (
                <tr key={l.key} data-line={l.key}>
                  <td className="py-1 pr-2">
                    <span className="block text-slate-800">{l.label}</span>
                    <span className="block break-words text-xs text-slate-600">{l.detail}</span>
                  </td>
                  <td className="whitespace-nowrap py-1 text-right tabular-nums">{usd(l.monthly)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <details className="mt-2 text-xs text-slate-600">
            <summary className="cursor-pointer">What this assumes</summary>
            <ul className="mt-1 list-disc space-y-0.5 pl-4">
              {result.estimate.assumptions.map((a) => (
                <li key={a}>{a}</li>
              ))}
              <li>
                Prices of {result.estimate.prices.date}: {result.estimate.prices.source}.
              </li>
            </ul>
          </details>
        </>
      )}
    </section>
  );
}
