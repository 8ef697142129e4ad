"use client";
// The new-environment form. Validates with the same schema as the server action (instant field messages),
// disables itself while submitting, and carries an idempotency key so a double submit creates one environment.
import { MAX_ENV_NAME_LENGTH, MIN_ENV_NAME_LENGTH } from "@platform/infra/environment-name";
import { useActionState, useState } from "react";
import { z } from "zod";
import {
  createEnvironmentSchema,
  type FormState,
  fieldErrors,
  type Limits,
} from "../../../shared/environment-schemas";
import {
  type CacheKind,
  cacheReplicaLabel,
  type TierOptions,
  tierOptionFields,
  tierOptionsOf,
} from "../../../shared/tier-options";
import { CostEstimateView } from "../../cost/components/cost-estimate";
import { environmentEstimate, type SharingInput } from "../../cost/estimate";
import { createEnvironmentAction } from "../actions";
import { FieldError, FormMessage, inputClass, primaryButton } from "./form-bits";
import { ReplicaSliders } from "./replica-slider";
import { TierOptionsFields } from "./tier-options-fields";

const tierFieldsSchema = z.object(tierOptionFields);

/** The options the form's current fields describe, or null while one of them does not parse. */
function tierOptionsFromForm(values: Record<string, unknown>): TierOptions | null {
  const parsed = tierFieldsSchema.safeParse(values);
  if (!parsed.success) return null;
  try {
    return tierOptionsOf(parsed.data);
  } catch {
    return null;
  }
}

export function CreateEnvironmentForm({
  limits,
  defaults,
  teams,
  ttlRequired,
  idempotencyKey,
  sharing = {},
}: {
  limits: Limits;
  defaults: { frontendReplicas: number; redisReplicas: number };
  /** The creator's teams: the environment can belong to one of them. */
  teams: string[];
  /** Members must set a time to live; admins may leave it empty (never). */
  ttlRequired: boolean;
  idempotencyKey: string;
  /** Per AWS region, how its network is shared (or will be, when the region has none yet): for the estimate. */
  sharing?: Record<string, SharingInput & { network: string; exists: boolean }>;
}) {
  const [state, action, pending] = useActionState<FormState, FormData>(createEnvironmentAction, {
    status: "idle",
  });
  const v = state.values ?? {};
  const [frontend, setFrontend] = useState(Number(v.frontendReplicas ?? defaults.frontendReplicas));
  const [redis, setRedis] = useState(Number(v.redisReplicas ?? defaults.redisReplicas));
  const localOffered = limits.localTarget !== false;
  const [target, setTarget] = useState(v.target ?? (localOffered ? "local" : "aws"));
  const [region, setRegion] = useState(v.region ?? limits.awsRegions[0] ?? "");
  const [cacheKind, setCacheKind] = useState<CacheKind>(
    v.cacheKind === "elasticache" ? "elasticache" : "redis",
  );
  // The options as the estimate prices them, re-read from the form on every change (their fields live in
  // TierOptionsFields; a field that does not parse yet keeps the last good options).
  const [tierOptions, setTierOptions] = useState<TierOptions>(() => tierOptionsFromForm(v) ?? {});
  const [clientErrors, setClientErrors] = useState<Record<string, string> | null>(null);
  const errors = clientErrors ?? state.fieldErrors ?? {};
  const awsAvailable = limits.awsRegions.length > 0;

  const validate = (form: HTMLFormElement) => {
    const data = Object.fromEntries(new FormData(form).entries());
    const parsed = createEnvironmentSchema(limits).safeParse(data);
    return parsed.success ? {} : fieldErrors(parsed.error);
  };

  return (
    <form
      action={action}
      noValidate
      className="space-y-6"
      onChange={(e) => {
        const next = tierOptionsFromForm(Object.fromEntries(new FormData(e.currentTarget).entries()));
        if (next) setTierOptions(next);
      }}
      onSubmit={(e) => {
        const found = validate(e.currentTarget);
        // No client-side findings: let the server's answer (e.g. "name is taken") show.
        setClientErrors(Object.keys(found).length > 0 ? found : null);
        if (Object.keys(found).length > 0) {
          e.preventDefault();
          const first = e.currentTarget.querySelector<HTMLElement>(`[name="${Object.keys(found)[0]}"]`);
          first?.focus();
        }
      }}
    >
      <input type="hidden" name="idempotencyKey" value={state.nextKey ?? idempotencyKey} />
      <FormMessage
        state={
          clientErrors && Object.keys(clientErrors).length
            ? { status: "error", message: "Please correct the highlighted fields." }
            : state
        }
        testId="form-message"
      />

      <div>
        <label htmlFor="name" className="text-sm font-medium text-slate-800">
          Name
        </label>
        <input
          id="name"
          name="name"
          defaultValue={v.name ?? ""}
          required
          autoComplete="off"
          spellCheck={false}
          placeholder="team-feature-x"
          aria-invalid={errors.name ? true : undefined}
          aria-describedby={`name-hint${errors.name ? " name-error" : ""}`}
          className={inputClass}
          onBlur={(e) => {
            if (clientErrors) {
              const found = validate(e.currentTarget.form as HTMLFormElement);
              setClientErrors(Object.keys(found).length > 0 ? found : null);
            }
          }}
        />
        <p id="name-hint" className="mt-1 text-xs text-slate-500">
          {MIN_ENV_NAME_LENGTH}–{MAX_ENV_NAME_LENGTH} lower-case letters, digits and dashes; starts with a
          letter. Used in URLs and cloud resource names.
        </p>
        <FieldError id="name-error" message={errors.name} />
      </div>

      <fieldset>
        <legend className="text-sm font-medium text-slate-800">Target</legend>
        <div className="mt-2 grid gap-3 sm:grid-cols-2">
          <label
            className={`flex gap-3 rounded-lg border border-slate-300 bg-white p-3 has-[:checked]:border-indigo-600 has-[:checked]:ring-1 has-[:checked]:ring-indigo-600 ${localOffered ? "cursor-pointer" : "cursor-not-allowed opacity-60"}`}
          >
            <input
              type="radio"
              name="target"
              value="local"
              disabled={!localOffered}
              checked={target === "local"}
              onChange={() => setTarget("local")}
              className="mt-1"
            />
            <span>
              <span className="block text-sm font-medium">Local</span>
              <span className="block text-xs text-slate-500">
                {localOffered
                  ? "Real processes on the portal's machine. Fast, free."
                  : "Not offered on this portal."}
              </span>
            </span>
          </label>
          <label
            className={`flex gap-3 rounded-lg border border-slate-300 bg-white p-3 has-[:checked]:border-indigo-600 has-[:checked]:ring-1 has-[:checked]:ring-indigo-600 ${awsAvailable ? "cursor-pointer" : "cursor-not-allowed opacity-60"}`}
          >
            <input
              type="radio"
              name="target"
              value="aws"
              disabled={!awsAvailable}
              checked={target === "aws"}
              onChange={() => setTarget("aws")}
              className="mt-1"
            />
            <span>
              <span className="block text-sm font-medium">AWS Fargate</span>
              <span className="block text-xs text-slate-500">
                {awsAvailable
                  ? "ECS Fargate behind load balancers."
                  : "Not available: AWS credentials are not configured."}
              </span>
            </span>
          </label>
        </div>
        <FieldError id="target-error" message={errors.target} />
      </fieldset>

      {target === "aws" && (
        <div>
          <label htmlFor="region" className="text-sm font-medium text-slate-800">
            Region
          </label>
          <select
            id="region"
            name="region"
            value={region}
            onChange={(e) => setRegion(e.currentTarget.value)}
            aria-describedby="region-network"
            className={inputClass}
          >
            {limits.awsRegions.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
          <p id="region-network" className="mt-1 text-xs text-slate-500" data-testid="region-network">
            {sharing[region]?.exists
              ? `Placed in the region's shared network ${sharing[region]?.network} (${sharing[region]?.environments} environment${sharing[region]?.environments === 1 ? "" : "s"} in it now).`
              : `The region has no network yet: ${sharing[region]?.network ?? "its network"} is created first (a few minutes), then shared by every environment of ${region}.`}
          </p>
          <FieldError id="region-error" message={errors.region} />
        </div>
      )}

      <TierOptionsFields
        target={target}
        cacheKind={cacheKind}
        onCacheKind={setCacheKind}
        values={v}
        errors={errors}
      />

      <div className="grid gap-6 sm:grid-cols-2">
        <ReplicaSliders
          ids={{ frontend: "frontendReplicas", redis: "redisReplicas" }}
          limits={limits}
          values={{ frontend, redis }}
          onChange={{ frontend: setFrontend, redis: setRedis }}
          errors={errors}
          cacheLabel={cacheReplicaLabel(cacheKind)}
        />
      </div>

      <p className="text-xs text-slate-600" id="replicas-quota">
        At most {limits.replicasPerEnvironment} replicas per environment (frontends + Redis nodes).
      </p>

      {/* Recomputed in the browser on every change of target, region, option or slider (the total is read out). */}
      <div>
        <CostEstimateView
          live
          headingId="create-cost-heading"
          result={
            target === "aws"
              ? environmentEstimate({
                  region,
                  frontendReplicas: frontend,
                  redisReplicas: redis,
                  options: tierOptions,
                  sharing: sharing[region] ?? { natGateways: 1, adopted: false, environments: 0 },
                  joining: true,
                })
              : null
          }
          note={
            target === "aws" && sharing[region]
              ? `Its share of the network's NAT gateways assumes ${(sharing[region]?.environments ?? 0) + 1} environment${(sharing[region]?.environments ?? 0) === 0 ? "" : "s"} in ${sharing[region]?.network}, this one included.`
              : undefined
          }
        />
      </div>

      <div className="grid gap-6 sm:grid-cols-2">
        <div>
          <label htmlFor="ttlHours" className="text-sm font-medium text-slate-800">
            Time to live{" "}
            <span className="font-normal text-slate-500">
              (hours{ttlRequired ? ", required" : ", optional"})
            </span>
          </label>
          <input
            id="ttlHours"
            name="ttlHours"
            type="number"
            inputMode="numeric"
            min={1}
            max={limits.maxTtlHours}
            required={ttlRequired}
            defaultValue={v.ttlHours ?? (ttlRequired ? String(limits.defaultTtlHours) : "")}
            aria-invalid={errors.ttlHours ? true : undefined}
            aria-describedby={`ttlHours-hint${errors.ttlHours ? " ttlHours-error" : ""}`}
            className={inputClass}
          />
          <p id="ttlHours-hint" className="mt-1 text-xs text-slate-600">
            Destroyed automatically after this; at most {limits.maxTtlHours} hours.
            {ttlRequired ? "" : " Empty: never."}
          </p>
          <FieldError id="ttlHours-error" message={errors.ttlHours} />
        </div>
        <div>
          <label htmlFor="team" className="text-sm font-medium text-slate-800">
            Team
          </label>
          <select
            id="team"
            name="team"
            defaultValue={v.team ?? teams[0] ?? ""}
            aria-describedby={`team-hint${errors.team ? " team-error" : ""}`}
            aria-invalid={errors.team ? true : undefined}
            className={inputClass}
          >
            <option value="">No team (only you and admins)</option>
            {teams.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
          <p id="team-hint" className="mt-1 text-xs text-slate-600">
            Members of the team can also scale and destroy it.
          </p>
          <FieldError id="team-error" message={errors.team} />
        </div>
      </div>

      <label className="flex items-start gap-2 text-sm text-slate-800">
        <input
          type="checkbox"
          name="allowReset"
          defaultChecked={v.allowReset === "on"}
          className="mt-0.5 h-4 w-4 rounded border-slate-300"
        />
        <span>
          Allow resetting the votes
          <span className="block text-xs text-slate-600">
            Offers “reset all votes” in the voting app (off by default).
          </span>
        </span>
      </label>

      <div className="flex items-center gap-3 border-t border-slate-200 pt-6">
        <button type="submit" disabled={pending} className={primaryButton} data-testid="create-submit">
          {pending ? "Creating…" : "Create environment"}
        </button>
        <p className="text-xs text-slate-500">
          The request is queued; you can follow its progress on the next page.
        </p>
      </div>
    </form>
  );
}
