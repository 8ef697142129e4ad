"use client";
// The Webhooks page's forms: add a webhook (its secret shown once), and one webhook's buttons.
import { useActionState } from "react";
import { ALL_TEAMS } from "../../../shared/webhook-schemas";
import {
  dangerButton,
  FieldError,
  FormMessage,
  inputClass,
  primaryButton,
  secondaryButton,
} from "../../environments/components/form-bits";
import { changeWebhookAction, createWebhookAction, type WebhookFormState } from "../actions";

const idle: WebhookFormState = { status: "idle" };

function SecretOnce({ secret, label }: { secret: string; label: string }) {
  return (
    <div
      className="space-y-1 rounded-md border border-emerald-300 bg-emerald-50 p-3"
      data-testid="webhook-secret"
    >
      <label htmlFor={`secret-${label}`} className="text-sm font-medium text-emerald-900">
        Signing secret ({label}) — copy it now, it is not shown again
      </label>
      <input
        id={`secret-${label}`}
        readOnly
        value={secret}
        className={`${inputClass} font-mono`}
        onFocus={(e) => e.currentTarget.select()}
      />
    </div>
  );
}

export function CreateWebhookForm({ teams, allowAll }: { teams: string[]; allowAll: boolean }) {
  const [state, action, pending] = useActionState(createWebhookAction, idle);
  const v = state.values ?? {};
  const errors = state.fieldErrors ?? {};
  return (
    <form action={action} noValidate className="space-y-4" aria-labelledby="add-webhook-heading">
      <h2 id="add-webhook-heading" className="text-lg font-semibold">
        Add a webhook
      </h2>
      <FormMessage state={state} testId="webhook-message" />
      {state.secret && <SecretOnce secret={state.secret} label="new webhook" />}
      <div className="grid gap-4 sm:grid-cols-3">
        <div>
          <label htmlFor="webhook-team" className="text-sm font-medium text-slate-800">
            Environments of
          </label>
          <select
            id="webhook-team"
            name="team"
            defaultValue={v.team ?? teams[0] ?? (allowAll ? ALL_TEAMS : "")}
            aria-invalid={!!errors.team}
            aria-describedby={errors.team ? "webhook-team-error" : undefined}
            className={inputClass}
          >
            {teams.map((t) => (
              <option key={t} value={t}>
                team {t}
              </option>
            ))}
            {allowAll && <option value={ALL_TEAMS}>every environment (all teams)</option>}
          </select>
          <FieldError id="webhook-team-error" message={errors.team} />
        </div>
        <div className="sm:col-span-2">
          <label htmlFor="webhook-url" className="text-sm font-medium text-slate-800">
            URL
          </label>
          <input
            id="webhook-url"
            name="url"
            type="url"
            defaultValue={v.url ?? ""}
            placeholder="https://hooks.example.com/portal"
            aria-invalid={!!errors.url}
            aria-describedby={errors.url ? "webhook-url-error" : "webhook-url-hint"}
            className={inputClass}
          />
          <p id="webhook-url-hint" className="mt-1 text-xs text-slate-600">
            https://, called with a signed JSON POST when an operation finishes.
          </p>
          <FieldError id="webhook-url-error" message={errors.url} />
        </div>
      </div>
      <div>
        <label htmlFor="webhook-description" className="text-sm font-medium text-slate-800">
          Description (optional)
        </label>
        <input
          id="webhook-description"
          name="description"
          defaultValue={v.description ?? ""}
          maxLength={200}
          aria-invalid={!!errors.description}
          aria-describedby={errors.description ? "webhook-description-error" : undefined}
          className={inputClass}
        />
        <FieldError id="webhook-description-error" message={errors.description} />
      </div>
      <button type="submit" disabled={pending} className={primaryButton}>
        {pending ? "Adding…" : "Add webhook"}
      </button>
    </form>
  );
}

export function WebhookButtons({ id, enabled, url }: { id: string; enabled: boolean; url: string }) {
  const [state, action, pending] = useActionState(changeWebhookAction, idle);
  return (
    <form action={action} className="space-y-2">
      <input type="hidden" name="id" value={id} />
      <div className="flex flex-wrap gap-2">
        <button
          type="submit"
          name="intent"
          value="ping"
          disabled={pending || !enabled}
          className={secondaryButton}
        >
          Send test delivery
        </button>
        <button
          type="submit"
          name="intent"
          value={enabled ? "disable" : "enable"}
          disabled={pending}
          className={secondaryButton}
        >
          {enabled ? "Disable" : "Enable"}
        </button>
        <button type="submit" name="intent" value="rotate" disabled={pending} className={secondaryButton}>
          Rotate secret
        </button>
        <button
          type="submit"
          name="intent"
          value="delete"
          disabled={pending}
          className={dangerButton}
          aria-label={`Delete the webhook to ${url}`}
        >
          Delete
        </button>
      </div>
      <FormMessage state={state} />
      {state.secret && <SecretOnce secret={state.secret} label="rotated" />}
    </form>
  );
}
