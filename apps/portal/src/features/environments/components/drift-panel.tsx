// The detail page's answer to "is this environment what was asked for?": when it is not, what differs and a
// one-click reconcile (an up with the counts asked for).
import type { SyncReport } from "../../../shared/sync";
import { OperationButtons } from "./environment-actions";

export function DriftPanel({
  name,
  report,
  canReconcile,
  idempotencyKey,
}: {
  name: string;
  report: SyncReport;
  /** The person may reconcile and no operation is running (the server checks again). */
  canReconcile: boolean;
  idempotencyKey: string;
}) {
  if (!report.drifted) return null;
  return (
    <section
      aria-labelledby="drift-heading"
      className="rounded-lg border border-amber-300 bg-amber-50 p-5 shadow-sm"
      data-testid="drift-panel"
    >
      <h2 id="drift-heading" className="text-base font-semibold text-amber-950">
        Drifted: this environment is not what was asked for
      </h2>
      <ul className="mt-2 list-inside list-disc space-y-1 text-sm text-amber-950" data-testid="drift-reasons">
        {report.reasons.map((r) => (
          <li key={r}>{r}</li>
        ))}
      </ul>
      <p className="mt-2 text-xs text-amber-900">
        Reconcile applies what was asked for again: what is gone is created, what changed is set back, the
        rest is left as it is.
      </p>
      {canReconcile && (
        <div className="mt-3">
          <OperationButtons
            name={name}
            idempotencyKey={idempotencyKey}
            buttons={[
              { operation: "reconcile", label: "Reconcile", pendingLabel: "Requesting…", primary: true },
            ]}
          />
        </div>
      )}
    </section>
  );
}
