"use server";
// Server actions behind the forms. The work (validate, authorise, check quotas, record + audit + enqueue, answer
// with messages, never throw) is in form-handlers.ts and commands.ts; here only what needs the request: who is
// signed in and from where, cache revalidation and redirects. Next.js itself refuses an action posted from
// another origin (its Origin/Host check), which test/e2e/access.e2e.test.ts proves.
import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { db } from "../../server/db";
import { config, limitsFrom } from "../../server/env";
import { clientAddress, currentPrincipal } from "../../server/identity";
import { quotasFrom, rateLimiters } from "../../server/limits";
import { sender } from "../../server/sender";
import type { FormState } from "../../shared/environment-schemas";
import { networkSettingsFrom } from "../networks/settings";
import {
  type FormDeps,
  type FormHandler,
  handleCreate,
  handleDestroy,
  handleRemove,
  handleScale,
  operationHandlers,
  operationOf,
} from "./form-handlers";

const deps = (): FormDeps => ({
  context: async () => {
    const principal = await currentPrincipal();
    if (!principal) return null;
    return {
      db: db(),
      boss: await sender(),
      principal,
      address: await clientAddress(),
      quotas: quotasFrom(config()),
      rateLimiter: rateLimiters().actions,
      networks: networkSettingsFrom(config()),
    };
  },
  limits: limitsFrom(config()),
});

/** Runs an action on an environment and re-renders its page and the list (also after a refusal: the page
 * then shows the state that caused it). */
async function onEnvironment(handler: FormHandler, form: FormData): Promise<FormState> {
  const { state, accepted } = await handler(deps(), form);
  const name = accepted ?? form.get("name");
  if (typeof name === "string" && name) revalidatePath(`/environments/${encodeURIComponent(name)}`);
  revalidatePath("/");
  return state;
}

export async function createEnvironmentAction(_prev: FormState, form: FormData): Promise<FormState> {
  const { state, accepted } = await handleCreate(deps(), form);
  if (accepted) {
    revalidatePath("/");
    redirect(`/environments/${accepted}`);
  }
  return state;
}

export async function scaleEnvironmentAction(_prev: FormState, form: FormData): Promise<FormState> {
  return await onEnvironment(handleScale, form);
}
export async function destroyEnvironmentAction(_prev: FormState, form: FormData): Promise<FormState> {
  return await onEnvironment(handleDestroy, form);
}
/** Refresh, retry, cancel or remove, by the pressed button's `operation` value. */
export async function environmentOperationAction(prev: FormState, form: FormData): Promise<FormState> {
  const operation = operationOf(form);
  if (!operation) return { status: "error", message: "Unknown operation: reload the page." };
  if (operation === "remove") return await removeEnvironmentAction(prev, form);
  return await onEnvironment(operationHandlers[operation], form);
}

export async function removeEnvironmentAction(_prev: FormState, form: FormData): Promise<FormState> {
  const { state, accepted } = await handleRemove(deps(), form);
  if (accepted) redirect(`/?removed=${encodeURIComponent(accepted)}`);
  return state;
}
