"use client";
// The detail page's actions: scale (sliders + what will change), refresh, retry, cancel, destroy (type the
// name), remove. Each is a server action; the page shows its answer, never an error page.
import { useActionState, useState } from "react";
import type { FormState, Limits } from "../../../shared/environment-schemas";
import { destroyEnvironmentAction, environmentOperationAction, scaleEnvironmentAction } from "../actions";
import type { EnvironmentOperation } from "../form-handlers";
import { DestroyConfirmForm } from "./destroy-confirm-form";
import { dangerButton, FormMessage, primaryButton, secondaryButton } from "./form-bits";
import { ReplicaSliders } from "./replica-slider";

const idle: FormState = { status: "idle" };

function Hidden({ name, idempotencyKey }: { name: string; idempotencyKey: string }) {
  return (
    <>
      <input type="hidden" name="name" value={name} />
      <input type="hidden" name="idempotencyKey" value={idempotencyKey} />
    </>
  );
}

export interface OperationButton {
  operation: EnvironmentOperation;
  label: string;
  pendingLabel: string;
  danger?: boolean;
  /** The action the page suggests (e.g. Reconcile when the environment drifted). */
  primary?: boolean;
}

/**
 * Refresh, retry, cancel, remove: one form, one submit button per operation possible now. The form (and so
 * its answer) stays when the buttons change, e.g. a retry that already runs can no longer be retried.
 */
export function OperationButtons({
  name,
  idempotencyKey,
  buttons,
}: {
  name: string;
  idempotencyKey: string;
  buttons: OperationButton[];
}) {
  const [state, run, pending] = useActionState(environmentOperationAction, idle);
  const [clicked, setClicked] = useState<EnvironmentOperation>();
  return (
    <form action={run} className="space-y-3">
      <Hidden name={name} idempotencyKey={state.nextKey ?? idempotencyKey} />
      <div className="flex flex-wrap gap-2">
        {buttons.map((b) => (
          <button
            key={b.operation}
            type="submit"
            name="operation"
            value={b.operation}
            disabled={pending}
            onClick={() => setClicked(b.operation)}
            className={b.danger ? dangerButton : b.primary ? primaryButton : secondaryButton}
            data-testid={b.operation}
          >
            {pending && clicked === b.operation ? b.pendingLabel : b.label}
          </button>
        ))}
      </div>
      {buttons.length === 0 && <p className="text-xs text-slate-500">No operation is possible right now.</p>}
      <FormMessage state={state} testId={`${clicked ?? "operation"}-message`} />
    </form>
  );
}

function change(label: string, from: number | null, to: number) {
  if (from === null) return `${label}: ${to}`;
  if (from === to) return `${label}: ${to} (no change)`;
  const d = to - from;
  return `${label}: ${from} → ${to} (${d > 0 ? "+" : ""}${d} replica${Math.abs(d) === 1 ? "" : "s"})`;
}

export function ScaleForm({
  name,
  limits,
  current,
  desired,
  idempotencyKey,
  disabledReason,
  lastPreview,
  cacheLabel,
}: {
  name: string;
  lastPreview?: { frontend: number; redis: number; status: string; summary: string } | null;
  /** What the cache slider counts (Redis tasks, or ElastiCache nodes). */
  cacheLabel?: { label: string; hint: string };
  limits: Limits;
  current: { frontend: number | null; redis: number | null };
  desired: { frontend: number; redis: number };
  idempotencyKey: string;
  disabledReason: string | null;
}) {
  const [state, run, pending] = useActionState(scaleEnvironmentAction, idle);
  const [frontend, setFrontend] = useState(desired.frontend);
  const [redis, setRedis] = useState(desired.redis);
  const changed =
    frontend !== (current.frontend ?? desired.frontend) || redis !== (current.redis ?? desired.redis);
  return (
    <form action={run} className="space-y-4" aria-labelledby="scale-heading">
      <h3 id="scale-heading" className="text-sm font-semibold">
        Scale
      </h3>
      <Hidden name={name} idempotencyKey={state.nextKey ?? idempotencyKey} />
      <ReplicaSliders
        ids={{ frontend: "scale-frontend", redis: "scale-redis" }}
        limits={limits}
        values={{ frontend, redis }}
        onChange={{ frontend: setFrontend, redis: setRedis }}
        errors={state.fieldErrors}
        cacheLabel={cacheLabel}
      />
      <div
        className="rounded-md bg-slate-50 p-3 text-xs text-slate-700"
        aria-live="polite"
        data-testid="scale-preview"
      >
        <p className="font-medium">What will change</p>
        <ul className="mt-1 list-inside list-disc">
          <li>{change("Frontends", current.frontend, frontend)}</li>
          <li>{change(cacheLabel?.label ?? "Redis nodes", current.redis, redis)}</li>
        </ul>
      </div>
      {lastPreview && (
        <p
          className="rounded-md border border-slate-200 p-3 text-xs text-slate-700"
          data-testid="pulumi-preview"
        >
          <span className="font-medium">Pulumi preview</span> for {lastPreview.frontend} frontends,{" "}
          {lastPreview.redis} Redis nodes:{" "}
          {lastPreview.status === "succeeded" ? lastPreview.summary : lastPreview.status}
        </p>
      )}
      {disabledReason && <p className="text-xs text-amber-800">{disabledReason}</p>}
      <div className="flex gap-2">
        <button
          type="submit"
          name="intent"
          value="preview"
          disabled={pending || !!disabledReason}
          className={secondaryButton}
          data-testid="scale-preview-submit"
        >
          Preview
        </button>
        <button
          type="submit"
          name="intent"
          value="apply"
          disabled={pending || !changed || !!disabledReason}
          className={primaryButton}
          data-testid="scale-submit"
        >
          {pending ? "Requesting…" : "Apply"}
        </button>
      </div>
      <FormMessage state={state} testId="scale-message" />
    </form>
  );
}

export function DestroyForm({
  name,
  idempotencyKey,
  refusedBecause,
}: {
  name: string;
  idempotencyKey: string;
  /** Why a destroy would be refused now (shown unless the server's answer says it already). */
  refusedBecause?: string | null;
}) {
  return (
    <DestroyConfirmForm
      what="environment"
      idPrefix=""
      name={name}
      idempotencyKey={idempotencyKey}
      refusedBecause={refusedBecause}
      action={destroyEnvironmentAction}
      description="Removes every resource of this environment."
    />
  );
}
