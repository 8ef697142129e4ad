"use server";
// The Tokens page's server actions: create (the secret comes back once, in the action's answer) and revoke.
import { revalidatePath } from "next/cache";
import { db } from "../../server/db";
import { config } from "../../server/env";
import { clientAddress, currentPrincipal } from "../../server/identity";
import { webLogger } from "../../server/logger";
import { fieldErrors } from "../../shared/environment-schemas";
import { createTokenSchema, revokeTokenSchema } from "../../shared/token-schemas";
import { createToken, revokeToken } from "./tokens";

export interface TokenFormState {
  status: "idle" | "ok" | "error";
  message?: string;
  fieldErrors?: Record<string, string>;
  values?: Record<string, string>;
  /** The new token: shown once. */
  token?: string;
  tokenName?: string;
}

const SIGNED_OUT = "You are not signed in (or your session has ended): sign in again. Nothing was changed.";
const FAILED =
  "The portal could not record the request (database unavailable). Nothing was changed; try again.";

const valuesOf = (form: FormData) =>
  Object.fromEntries([...form.entries()].filter(([, v]) => typeof v === "string")) as Record<string, string>;

export async function createTokenAction(_prev: TokenFormState, form: FormData): Promise<TokenFormState> {
  const c = config();
  const parsed = createTokenSchema({
    maxDays: c.TOKEN_MAX_DAYS,
    defaultDays: c.TOKEN_DEFAULT_DAYS,
  }).safeParse(valuesOf(form));
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
  if (parsed.data.scope === "write" && principal.role === "viewer") {
    const message = "You have read-only access (viewer): you can create read tokens only.";
    return { status: "error", message, fieldErrors: { scope: message }, values: valuesOf(form) };
  }
  try {
    const made = await createToken(db(), {
      owner: principal,
      name: parsed.data.name,
      scope: parsed.data.scope,
      expiresInDays: parsed.data.expiresInDays,
      createdBy: principal.id,
      actor: principal,
      address: await clientAddress(),
    });
    revalidatePath("/tokens");
    return {
      status: "ok",
      message: `Token “${made.record.name}” created. Copy it now: it will not be shown again.`,
      token: made.token,
      tokenName: made.record.name,
    };
  } catch (e) {
    webLogger().error({ err: e }, "token create failed");
    return { status: "error", message: FAILED, values: valuesOf(form) };
  }
}

export async function revokeTokenAction(_prev: TokenFormState, form: FormData): Promise<TokenFormState> {
  const parsed = revokeTokenSchema.safeParse(valuesOf(form));
  if (!parsed.success) return { status: "error", message: "Unknown token: reload the page." };
  const principal = await currentPrincipal();
  if (!principal) return { status: "error", message: SIGNED_OUT };
  try {
    const result = await revokeToken(db(), principal, parsed.data.id, await clientAddress());
    revalidatePath("/tokens");
    return { status: result.ok ? "ok" : "error", message: result.message };
  } catch (e) {
    webLogger().error({ err: e }, "token revoke failed");
    return { status: "error", message: FAILED };
  }
}
