"use server";
// Server actions behind the forms: validate with the shared schemas, run the command (record + enqueue),
// and answer with a message for the page. They never wait for Pulumi and never throw to an error page.
import { randomUUID } from "node:crypto";
import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import type { z } from "zod";
import { db } from "../../server/db";
import { config, limitsFrom } from "../../server/env";
import { currentUser } from "../../server/identity";
import { sender } from "../../server/sender";
import {
  createEnvironmentSchema,
  destroyEnvironmentSchema,
  environmentActionSchema,
  type FormState,
  fieldErrors,
  scaleEnvironmentSchema,
} from "../../shared/environment-schemas";
import {
  type CommandContext,
  type CommandResult,
  cancelOperation,
  createEnvironment,
  destroyEnvironment,
  previewScale,
  refreshEnvironment,
  removeEnvironment,
  retryOperation,
  scaleEnvironment,
} from "./commands";

const valuesOf = (form: FormData): Record<string, string> =>
  Object.fromEntries([...form.entries()].filter(([, v]) => typeof v === "string")) as Record<string, string>;

async function context(): Promise<CommandContext> {
  return { db: db(), boss: await sender(), user: await currentUser() };
}

function invalid(error: z.ZodError, form: FormData): FormState {
  return {
    status: "error",
    message: "Please correct the highlighted fields.",
    fieldErrors: fieldErrors(error),
    values: valuesOf(form),
    nextKey: randomUUID(),
  };
}

function answer(result: CommandResult, form: FormData): FormState {
  if (result.ok) return { status: "ok", message: result.message, nextKey: randomUUID() };
  return {
    status: "error",
    message: result.message,
    fieldErrors: result.field ? { [result.field]: result.message } : undefined,
    values: valuesOf(form),
    nextKey: randomUUID(),
  };
}

/** Runs `work`, turning unexpected failures (database down, …) into a message instead of an error page. */
async function guard(form: FormData, work: () => Promise<FormState>): Promise<FormState> {
  try {
    return await work();
  } catch (e) {
    console.error(`[portal] action failed: ${e instanceof Error ? e.stack : e}`);
    return {
      status: "error",
      message:
        "The portal could not record the request (database or queue unavailable). Nothing was changed; try again.",
      values: valuesOf(form),
      nextKey: randomUUID(),
    };
  }
}

export async function createEnvironmentAction(_prev: FormState, form: FormData): Promise<FormState> {
  let created: string | undefined;
  const state = await guard(form, async () => {
    const parsed = createEnvironmentSchema(limitsFrom(config())).safeParse(valuesOf(form));
    if (!parsed.success) return invalid(parsed.error, form);
    const result = await createEnvironment(await context(), parsed.data);
    if (result.ok) created = result.environment;
    return answer(result, form);
  });
  if (created) {
    revalidatePath("/");
    redirect(`/environments/${created}`);
  }
  return state;
}

export async function scaleEnvironmentAction(_prev: FormState, form: FormData): Promise<FormState> {
  return await guard(form, async () => {
    const parsed = scaleEnvironmentSchema(limitsFrom(config())).safeParse(valuesOf(form));
    if (!parsed.success) return invalid(parsed.error, form);
    const command = form.get("intent") === "preview" ? previewScale : scaleEnvironment;
    const result = await command(await context(), parsed.data);
    revalidatePath(`/environments/${parsed.data.name}`);
    return answer(result, form);
  });
}

export async function destroyEnvironmentAction(_prev: FormState, form: FormData): Promise<FormState> {
  return await guard(form, async () => {
    const parsed = destroyEnvironmentSchema.safeParse(valuesOf(form));
    if (!parsed.success) return invalid(parsed.error, form);
    const result = await destroyEnvironment(await context(), parsed.data);
    revalidatePath(`/environments/${parsed.data.name}`);
    return answer(result, form);
  });
}

type SimpleCommand = (
  ctx: CommandContext,
  input: z.infer<typeof environmentActionSchema>,
) => Promise<CommandResult>;

async function simple(command: SimpleCommand, form: FormData): Promise<FormState> {
  return await guard(form, async () => {
    const parsed = environmentActionSchema.safeParse(valuesOf(form));
    if (!parsed.success) return invalid(parsed.error, form);
    const result = await command(await context(), parsed.data);
    revalidatePath(`/environments/${parsed.data.name}`);
    revalidatePath("/");
    return answer(result, form);
  });
}

export async function refreshEnvironmentAction(_prev: FormState, form: FormData): Promise<FormState> {
  return await simple(refreshEnvironment, form);
}
export async function retryOperationAction(_prev: FormState, form: FormData): Promise<FormState> {
  return await simple(retryOperation, form);
}
export async function cancelOperationAction(_prev: FormState, form: FormData): Promise<FormState> {
  return await simple(cancelOperation, form);
}

export async function removeEnvironmentAction(_prev: FormState, form: FormData): Promise<FormState> {
  let removed = false;
  const state = await simple(async (ctx, input) => {
    const r = await removeEnvironment(ctx, input);
    removed = r.ok;
    return r;
  }, form);
  if (removed) redirect(`/?removed=${encodeURIComponent(String(form.get("name")))}`);
  return state;
}
