"use server";
// The Webhooks page's server actions: add a webhook (its signing secret comes back once), and per webhook:
// send a test delivery, enable, disable, rotate the secret, delete.
import { revalidatePath } from "next/cache";
import { db } from "../../server/db";
import { config, webhookPolicy } from "../../server/env";
import { clientAddress, currentPrincipal } from "../../server/identity";
import { webLogger } from "../../server/logger";
import { fieldErrors } from "../../shared/environment-schemas";
import { ALL_TEAMS, createWebhookSchema, webhookActionSchema } from "../../shared/webhook-schemas";
import { changeWebhook, createWebhook } from "./webhooks";

export interface WebhookFormState {
  status: "idle" | "ok" | "error";
  message?: string;
  fieldErrors?: Record<string, string>;
  values?: Record<string, string>;
  /** A new signing secret: shown once. */
  secret?: string;
}

const SIGNED_OUT = "You are not signed in (or your session has ended): sign in again. Nothing was changed.";
const FAILED =
  "The portal could not record the request (database unavailable). Nothing was changed; try again.";
const valuesOf = (form: FormData) =>
  Object.fromEntries([...form.entries()].filter(([, v]) => typeof v === "string")) as Record<string, string>;

export async function createWebhookAction(
  _prev: WebhookFormState,
  form: FormData,
): Promise<WebhookFormState> {
  const parsed = createWebhookSchema.safeParse(valuesOf(form));
  if (!parsed.success) {
    return {
      status: "error",
      message: "Please correct the highlighted fields.",
      fieldErrors: fieldErrors(parsed.error),
      values: valuesOf(form),
    };
  }
  const principal = await currentPrincipal();
  if (!principal) return { status: "error", message: SIGNED_OUT, values: valuesOf(form) };
  try {
    const input = { ...parsed.data, team: parsed.data.team === ALL_TEAMS ? null : parsed.data.team };
    const result = await createWebhook(
      db(),
      { principal, address: await clientAddress() },
      input,
      webhookPolicy(config()),
    );
    if (!result.ok) {
      return {
        status: "error",
        message: result.message,
        fieldErrors: result.field ? { [result.field]: result.message } : undefined,
        values: valuesOf(form),
      };
    }
    revalidatePath("/webhooks");
    return { status: "ok", message: result.message, secret: result.secret };
  } catch (e) {
    webLogger().error({ err: e }, "webhook create failed");
    return { status: "error", message: FAILED, values: valuesOf(form) };
  }
}

export async function changeWebhookAction(
  _prev: WebhookFormState,
  form: FormData,
): Promise<WebhookFormState> {
  const parsed = webhookActionSchema.safeParse(valuesOf(form));
  if (!parsed.success) return { status: "error", message: "Unknown webhook or action: reload the page." };
  const principal = await currentPrincipal();
  if (!principal) return { status: "error", message: SIGNED_OUT };
  try {
    const result = await changeWebhook(
      db(),
      { principal, address: await clientAddress() },
      parsed.data.id,
      parsed.data.intent,
    );
    revalidatePath("/webhooks");
    return {
      status: result.ok ? "ok" : "error",
      message: result.message,
      secret: result.ok ? result.secret : undefined,
    };
  } catch (e) {
    webLogger().error({ err: e }, "webhook change failed");
    return { status: "error", message: FAILED };
  }
}
