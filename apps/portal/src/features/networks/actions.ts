"use server";
// Server actions of the networks pages: the handlers plus the request's principal, revalidation and redirects.
import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { db } from "../../server/db";
import { awsEnabled, config } from "../../server/env";
import { clientAddress, currentPrincipal } from "../../server/identity";
import { rateLimiters } from "../../server/limits";
import { sender } from "../../server/sender";
import type { FormState } from "../../shared/environment-schemas";
import {
  handleCreateNetwork,
  handleDestroyNetwork,
  handleNetworkOperation,
  type NetworkFormDeps,
} from "./form-handlers";
import { networkSettingsFrom } from "./settings";

const deps = (): NetworkFormDeps => ({
  context: async () => {
    const principal = await currentPrincipal();
    if (!principal) return null;
    return {
      db: db(),
      boss: await sender(),
      principal,
      address: await clientAddress(),
      rateLimiter: rateLimiters().actions,
    };
  },
  regions: awsEnabled(config()) ? config().AWS_REGIONS : [],
  settings: networkSettingsFrom(config()),
});

const revalidate = (name: unknown) => {
  if (typeof name === "string" && name) revalidatePath(`/networks/${encodeURIComponent(name)}`);
  revalidatePath("/networks");
};

export async function createNetworkAction(_prev: FormState, form: FormData): Promise<FormState> {
  const { state, accepted } = await handleCreateNetwork(deps(), form);
  if (accepted) {
    revalidate(accepted);
    redirect(`/networks/${accepted}`);
  }
  return state;
}

export async function destroyNetworkAction(_prev: FormState, form: FormData): Promise<FormState> {
  const { state, accepted } = await handleDestroyNetwork(deps(), form);
  revalidate(accepted ?? form.get("name"));
  return state;
}

export async function networkOperationAction(_prev: FormState, form: FormData): Promise<FormState> {
  const { state, accepted } = await handleNetworkOperation(deps(), form);
  if (accepted && form.get("operation") === "remove")
    redirect(`/networks?removed=${encodeURIComponent(accepted)}`);
  revalidate(accepted ?? form.get("name"));
  return state;
}
