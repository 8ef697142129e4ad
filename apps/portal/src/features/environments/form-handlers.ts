// What each form of the portal does with a submit: validate with the shared schema, run the command (record +
// enqueue), and answer with messages for the page — never an exception (an unexpected failure, e.g. the
// database being down, becomes a message and loses nothing). Free of Next.js: the server actions
// (actions.ts) add only the request's context, cache revalidation and redirects, and the tests call these.
import { randomUUID } from "node:crypto";
import type { z } from "zod";
import { webLogger } from "../../server/logger";
import {
  createEnvironmentSchema,
  destroyEnvironmentSchema,
  environmentActionSchema,
  type FormState,
  fieldErrors,
  type Limits,
  scaleEnvironmentSchema,
} from "../../shared/environment-schemas";
import {
  type CommandContext,
  type CommandResult,
  cancelOperation,
  createEnvironment,
  destroyEnvironment,
  previewScale,
  reconcileEnvironment,
  refreshEnvironment,
  removeEnvironment,
  retryOperation,
  scaleEnvironment,
} from "./commands";

export interface FormDeps {
  /** The database, the queue sender and the request's principal; null when nobody is signed in. */
  context: () => Promise<CommandContext | null>;
  limits: Limits;
}

export const SIGNED_OUT_MESSAGE =
  "You are not signed in (or your session has ended): sign in again. Nothing was changed.";

/** The page's new state, and the environment the request was about when it was accepted. */
export interface FormAnswer {
  state: FormState;
  accepted?: string;
}

const valuesOf = (form: FormData): Record<string, string> =>
  Object.fromEntries([...form.entries()].filter(([, v]) => typeof v === "string")) as Record<string, string>;

function answer(result: CommandResult, form: FormData): FormAnswer {
  if (result.ok) {
    return {
      state: { status: "ok", message: result.message, nextKey: randomUUID() },
      accepted: result.environment,
    };
  }
  return {
    state: {
      status: "error",
      message: result.message,
      fieldErrors: result.field ? { [result.field]: result.message } : undefined,
      values: valuesOf(form),
      nextKey: randomUUID(),
    },
  };
}

async function handle<S extends z.ZodType>(
  schema: S,
  form: FormData,
  deps: FormDeps,
  command: (ctx: CommandContext, input: z.infer<S>) => Promise<CommandResult>,
): Promise<FormAnswer> {
  try {
    const parsed = schema.safeParse(valuesOf(form));
    if (!parsed.success) {
      return {
        state: {
          status: "error",
          message: "Please correct the highlighted fields.",
          fieldErrors: fieldErrors(parsed.error),
          values: valuesOf(form),
          nextKey: randomUUID(),
        },
      };
    }
    const ctx = await deps.context();
    if (!ctx) {
      return {
        state: {
          status: "error",
          message: SIGNED_OUT_MESSAGE,
          values: valuesOf(form),
          nextKey: randomUUID(),
        },
      };
    }
    return answer(await command(ctx, parsed.data), form);
  } catch (e) {
    const environment = form.get("name");
    webLogger().error(
      { err: e, environment: typeof environment === "string" ? environment : undefined },
      "action failed: the request was not recorded",
    );
    return {
      state: {
        status: "error",
        message:
          "The portal could not record the request (database or queue unavailable). Nothing was changed; try again.",
        values: valuesOf(form),
        nextKey: randomUUID(),
      },
    };
  }
}

export type FormHandler = (deps: FormDeps, form: FormData) => Promise<FormAnswer>;

export const handleCreate: FormHandler = (deps, form) =>
  handle(createEnvironmentSchema(deps.limits), form, deps, createEnvironment);

/** The scale form's two buttons: "preview" asks what would change, "apply" scales. */
export const handleScale: FormHandler = (deps, form) =>
  handle(
    scaleEnvironmentSchema(deps.limits),
    form,
    deps,
    form.get("intent") === "preview" ? previewScale : scaleEnvironment,
  );

export const handleDestroy: FormHandler = (deps, form) =>
  handle(destroyEnvironmentSchema, form, deps, destroyEnvironment);
export const handleRefresh: FormHandler = (deps, form) =>
  handle(environmentActionSchema, form, deps, refreshEnvironment);
export const handleReconcile: FormHandler = (deps, form) =>
  handle(environmentActionSchema, form, deps, reconcileEnvironment);
export const handleRetry: FormHandler = (deps, form) =>
  handle(environmentActionSchema, form, deps, retryOperation);
export const handleCancel: FormHandler = (deps, form) =>
  handle(environmentActionSchema, form, deps, cancelOperation);
export const handleRemove: FormHandler = (deps, form) =>
  handle(environmentActionSchema, form, deps, removeEnvironment);

/** The detail page's operation buttons share one form; the pressed button's value says which. */
export const ENVIRONMENT_OPERATIONS = ["refresh", "reconcile", "retry", "cancel", "remove"] as const;
export type EnvironmentOperation = (typeof ENVIRONMENT_OPERATIONS)[number];
export const operationHandlers: Record<EnvironmentOperation, FormHandler> = {
  refresh: handleRefresh,
  reconcile: handleReconcile,
  retry: handleRetry,
  cancel: handleCancel,
  remove: handleRemove,
};
export const operationOf = (form: FormData): EnvironmentOperation | undefined =>
  ENVIRONMENT_OPERATIONS.find((o) => o === form.get("operation"));
