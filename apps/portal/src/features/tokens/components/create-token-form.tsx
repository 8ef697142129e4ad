"use client";
// The Tokens page's create form. The new token is shown once, in this form's answer, with the command that
// stores it for the CLI; reloading the page forgets it.
import { useActionState, useState } from "react";
import { SCOPE_LABEL, TOKEN_SCOPES, type TokenLimits } from "../../../shared/token-schemas";
import {
  FieldError,
  FormMessage,
  inputClass,
  primaryButton,
  secondaryButton,
} from "../../environments/components/form-bits";
import { createTokenAction, type TokenFormState } from "../actions";

export function CreateTokenForm({
  limits,
  canWrite,
  portalUrl,
}: {
  limits: TokenLimits;
  /** Viewers may create read tokens only. */
  canWrite: boolean;
  portalUrl: string;
}) {
  const [state, action, pending] = useActionState<TokenFormState, FormData>(createTokenAction, {
    status: "idle",
  });
  const [copied, setCopied] = useState(false);
  const v = state.values ?? {};
  const errors = state.fieldErrors ?? {};
  return (
    <div className="space-y-4">
      {state.token && (
        <section
          aria-labelledby="new-token-heading"
          className="space-y-3 rounded-lg border border-emerald-300 bg-emerald-50 p-4"
          data-testid="new-token"
        >
          <h3 id="new-token-heading" className="font-semibold text-emerald-900">
            Your new token “{state.tokenName}”
          </h3>
          <p className="text-sm text-emerald-900">
            Copy it now: the portal keeps only a hash and cannot show it again.
          </p>
          <div className="flex flex-wrap items-end gap-2">
            <div className="min-w-0 flex-1">
              <label htmlFor="new-token-value" className="text-sm font-medium text-slate-800">
                Token
              </label>
              <input
                id="new-token-value"
                readOnly
                value={state.token}
                className={`${inputClass} font-mono`}
                onFocus={(e) => e.currentTarget.select()}
              />
            </div>
            <button
              type="button"
              className={secondaryButton}
              onClick={async () => {
                await navigator.clipboard?.writeText(state.token ?? "").catch(() => {});
                setCopied(true);
              }}
            >
              {copied ? "Copied" : "Copy"}
            </button>
          </div>
          <p className="text-sm text-slate-800">
            Use it with the CLI:{" "}
            <code className="break-all rounded bg-white px-1 py-0.5 font-mono text-xs">
              envctl login --url {portalUrl} --token {state.token}
            </code>
          </p>
        </section>
      )}
      <form action={action} noValidate className="space-y-4" aria-labelledby="create-token-heading">
        <h2 id="create-token-heading" className="text-lg font-semibold">
          Create a token
        </h2>
        <FormMessage state={state.token ? { status: "idle" } : state} testId="token-message" />
        <div>
          <label htmlFor="token-name" className="text-sm font-medium text-slate-800">
            Name
          </label>
          <input
            id="token-name"
            name="name"
            defaultValue={v.name ?? ""}
            placeholder="e.g. ci-pipeline"
            maxLength={100}
            aria-invalid={!!errors.name}
            aria-describedby={errors.name ? "token-name-error" : "token-name-hint"}
            className={inputClass}
          />
          <p id="token-name-hint" className="mt-1 text-xs text-slate-600">
            What will use it, so you recognise it in the list and the audit log.
          </p>
          <FieldError id="token-name-error" message={errors.name} />
        </div>
        <fieldset aria-describedby={errors.scope ? "token-scope-error" : undefined}>
          <legend className="text-sm font-medium text-slate-800">Access</legend>
          <div className="mt-1 space-y-1">
            {TOKEN_SCOPES.map((scope) => (
              <label key={scope} className="flex items-start gap-2 text-sm text-slate-800">
                <input
                  type="radio"
                  name="scope"
                  value={scope}
                  defaultChecked={(v.scope ?? (canWrite ? "write" : "read")) === scope}
                  disabled={scope === "write" && !canWrite}
                  className="mt-1"
                />
                <span>
                  {SCOPE_LABEL[scope]}
                  {scope === "write" && !canWrite && " (not for viewers)"}
                </span>
              </label>
            ))}
          </div>
          <FieldError id="token-scope-error" message={errors.scope} />
        </fieldset>
        <div className="max-w-xs">
          <label htmlFor="token-days" className="text-sm font-medium text-slate-800">
            Expires in (days)
          </label>
          <input
            id="token-days"
            name="expiresInDays"
            type="number"
            min={1}
            max={limits.maxDays}
            defaultValue={v.expiresInDays ?? String(limits.defaultDays)}
            aria-invalid={!!errors.expiresInDays}
            aria-describedby={errors.expiresInDays ? "token-days-error" : "token-days-hint"}
            className={inputClass}
          />
          <p id="token-days-hint" className="mt-1 text-xs text-slate-600">
            1 to {limits.maxDays} days.
          </p>
          <FieldError id="token-days-error" message={errors.expiresInDays} />
        </div>
        <button type="submit" disabled={pending} className={primaryButton}>
          {pending ? "Creating…" : "Create token"}
        </button>
      </form>
    </div>
  );
}
