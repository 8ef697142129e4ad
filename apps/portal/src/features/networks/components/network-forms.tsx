"use client";
// The networks pages' forms: create (admins), refresh / retry / cancel / remove, and destroy (type the name).
// Each is a server action; the page shows its answer (a refusal too), never an error page.
import { useActionState, useState } from "react";
import type { FormState } from "../../../shared/environment-schemas";
import { DestroyConfirmForm } from "../../environments/components/destroy-confirm-form";
import {
  dangerButton,
  FieldError,
  FormMessage,
  inputClass,
  primaryButton,
  secondaryButton,
} from "../../environments/components/form-bits";
import { createNetworkAction, destroyNetworkAction, networkOperationAction } from "../actions";
import type { NetworkOperation } from "../form-handlers";

const idle: FormState = { status: "idle" };

export function CreateNetworkForm({
  regions,
  taken,
  adopted,
  defaults,
  idempotencyKey,
}: {
  regions: string[];
  /** Regions with a live network already (their create is refused). */
  taken: string[];
  /** Regions whose network is a configured VPC (AWS_NETWORKS): adopted, not created. */
  adopted: string[];
  defaults: { natGateways: "single" | "onePerAz"; availabilityZones: number };
  idempotencyKey: string;
}) {
  const [state, run, pending] = useActionState(createNetworkAction, idle);
  const v = state.values ?? {};
  const free = regions.filter((r) => !taken.includes(r));
  const [region, setRegion] = useState(v.region ?? free[0] ?? regions[0] ?? "");
  const errors = state.fieldErrors ?? {};
  const isAdopted = adopted.includes(region);
  return (
    <form action={run} className="space-y-4" aria-labelledby="create-network-heading">
      <h2 id="create-network-heading" className="text-base font-semibold">
        Create a network
      </h2>
      <p className="text-xs text-slate-600">
        One network per region, shared by every AWS environment there. It is also created by itself with the
        first environment of a region; creating it ahead saves that environment a few minutes.
      </p>
      <input type="hidden" name="idempotencyKey" value={state.nextKey ?? idempotencyKey} />
      <div className="grid gap-4 sm:grid-cols-3">
        <div>
          <label htmlFor="network-region" className="text-sm font-medium text-slate-800">
            Region
          </label>
          <select
            id="network-region"
            name="region"
            value={region}
            onChange={(e) => setRegion(e.currentTarget.value)}
            aria-invalid={errors.region ? true : undefined}
            aria-describedby={errors.region ? "network-region-error" : undefined}
            className={inputClass}
          >
            {regions.map((r) => (
              <option key={r} value={r}>
                {r}
                {taken.includes(r) ? " (has a network)" : ""}
              </option>
            ))}
          </select>
          <FieldError id="network-region-error" message={errors.region} />
        </div>
        <div>
          <label htmlFor="network-nat" className="text-sm font-medium text-slate-800">
            NAT gateways
          </label>
          <select
            id="network-nat"
            name="natGateways"
            defaultValue={v.natGateways ?? defaults.natGateways}
            disabled={isAdopted}
            className={inputClass}
          >
            <option value="single">One (cheaper)</option>
            <option value="onePerAz">One per AZ (survives an AZ outage)</option>
          </select>
          {isAdopted && <input type="hidden" name="natGateways" value={defaults.natGateways} />}
        </div>
        <div>
          <label htmlFor="network-azs" className="text-sm font-medium text-slate-800">
            Availability zones
          </label>
          <select
            id="network-azs"
            name="availabilityZones"
            defaultValue={v.availabilityZones ?? String(defaults.availabilityZones)}
            disabled={isAdopted}
            className={inputClass}
          >
            <option value="2">2</option>
            <option value="3">3</option>
          </select>
          {isAdopted && (
            <input type="hidden" name="availabilityZones" value={String(defaults.availabilityZones)} />
          )}
        </div>
      </div>
      {isAdopted && (
        <p className="text-xs text-slate-600">
          {region} uses the VPC configured in AWS_NETWORKS: it is adopted (checked, not changed), not created.
        </p>
      )}
      <button type="submit" disabled={pending} className={primaryButton} data-testid="create-network-submit">
        {pending ? "Requesting…" : "Create network"}
      </button>
      <FormMessage state={state} testId="create-network-message" />
    </form>
  );
}

export interface NetworkOperationButton {
  operation: NetworkOperation;
  label: string;
  danger?: boolean;
}

export function NetworkOperationButtons({
  name,
  idempotencyKey,
  buttons,
}: {
  name: string;
  idempotencyKey: string;
  buttons: NetworkOperationButton[];
}) {
  const [state, run, pending] = useActionState(networkOperationAction, idle);
  const [clicked, setClicked] = useState<NetworkOperation>();
  return (
    <form action={run} className="space-y-3">
      <input type="hidden" name="name" value={name} />
      <input type="hidden" name="idempotencyKey" value={state.nextKey ?? idempotencyKey} />
      <div className="flex flex-wrap gap-2">
        {buttons.map((b) => (
          <button
            key={b.operation}
            type="submit"
            name="operation"
            value={b.operation}
            disabled={pending}
            onClick={() => setClicked(b.operation)}
            className={b.danger ? dangerButton : secondaryButton}
            data-testid={`network-${b.operation}`}
          >
            {pending && clicked === b.operation ? "Requesting…" : b.label}
          </button>
        ))}
      </div>
      {buttons.length === 0 && <p className="text-xs text-slate-600">No operation is possible right now.</p>}
      <FormMessage state={state} testId="network-operation-message" />
    </form>
  );
}

export function DestroyNetworkForm({
  name,
  idempotencyKey,
  refusedBecause,
}: {
  name: string;
  idempotencyKey: string;
  /** Why a destroy would be refused now (the server says it again, and changes nothing). */
  refusedBecause?: string | null;
}) {
  return (
    <DestroyConfirmForm
      what="network"
      idPrefix="network-"
      name={name}
      idempotencyKey={idempotencyKey}
      refusedBecause={refusedBecause}
      action={destroyNetworkAction}
      description="Removes the VPC, its subnets and NAT gateways (an adopted VPC is left as it is)."
    />
  );
}
