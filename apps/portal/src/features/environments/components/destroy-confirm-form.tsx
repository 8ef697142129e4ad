"use client";
// The destroy form of an environment or a network: type the name to enable the button. The server checks the
// confirmation again and answers in the form (a refusal too); nothing is destroyed by a click alone.
import { type ReactNode, useActionState, useState } from "react";
import type { FormState } from "../../../shared/environment-schemas";
import { dangerButton, FieldError, FormMessage, inputClass } from "./form-bits";

const idle: FormState = { status: "idle" };

export function DestroyConfirmForm({
  what,
  name,
  idempotencyKey,
  refusedBecause,
  action,
  description,
  idPrefix,
}: {
  /** What is destroyed: names the button, the field's label and the ids. */
  what: "environment" | "network";
  name: string;
  idempotencyKey: string;
  /** Why a destroy would be refused now (shown unless the server's answer says it already). */
  refusedBecause?: string | null;
  action: (state: FormState, data: FormData) => Promise<FormState>;
  /** What the destroy removes, before "Type NAME to confirm." */
  description: ReactNode;
  /** Prefix of the element ids and test ids ("" for environments, "network-" for networks). */
  idPrefix: string;
}) {
  const [state, run, pending] = useActionState(action, idle);
  const [typed, setTyped] = useState("");
  const error = state.fieldErrors?.confirmation;
  const inputId = `${idPrefix}confirmation`;
  const testId = idPrefix ? `destroy-${idPrefix.replace(/-$/, "")}` : "destroy";
  return (
    <form action={run} className="space-y-3" aria-labelledby={`destroy-${idPrefix}heading`}>
      <h3 id={`destroy-${idPrefix}heading`} className="text-sm font-semibold text-rose-800">
        Destroy
      </h3>
      <p className="text-xs text-slate-600">
        {description} Type <strong className="font-mono">{name}</strong> to confirm.
      </p>
      <input type="hidden" name="name" value={name} />
      <input type="hidden" name="idempotencyKey" value={state.nextKey ?? idempotencyKey} />
      <label htmlFor={inputId} className="sr-only">
        Type the {what} name to confirm
      </label>
      <input
        id={inputId}
        name="confirmation"
        value={typed}
        onChange={(e) => setTyped(e.target.value)}
        autoComplete="off"
        spellCheck={false}
        placeholder={name}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${inputId}-error` : undefined}
        className={inputClass}
      />
      <FieldError id={`${inputId}-error`} message={error} />
      <button
        type="submit"
        disabled={pending || typed.trim() !== name}
        className={dangerButton}
        data-testid={`${testId}-submit`}
      >
        {pending ? "Requesting…" : `Destroy ${what}`}
      </button>
      <FormMessage state={state} testId={`${testId}-message`} />
      {refusedBecause && state.message !== refusedBecause && (
        <p className="text-xs text-amber-800" data-testid={`${testId}-hint`}>
          {refusedBecause}
        </p>
      )}
    </form>
  );
}
