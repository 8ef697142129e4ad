// What each network form does with a submit: validate with the shared schema, run the command, answer with
// messages (never an exception). Free of Next.js: actions.ts adds the request's context and revalidation.
import { randomUUID } from "node:crypto";
import type { z } from "zod";
import { type FormState, fieldErrors } from "../../shared/environment-schemas";
import type { CommandContext } from "../environments/commands";
import { SIGNED_OUT_MESSAGE } from "../environments/form-handlers";
import {
  cancelNetworkOperation,
  createNetwork,
  destroyNetwork,
  type NetworkCommandResult,
  type NetworkSettings,
  refreshNetwork,
  removeNetwork,
  retryNetworkOperation,
} from "./commands";
import { createNetworkSchema, destroyNetworkSchema, networkActionSchema } from "./model";

export interface NetworkFormDeps {
  context: () => Promise<CommandContext | null>;
  /** Regions the portal offers for AWS. */
  regions: string[];
  settings: NetworkSettings;
}

export interface NetworkFormAnswer {
  state: FormState;
  accepted?: string;
}

const valuesOf = (form: FormData): Record<string, string> =>
  Object.fromEntries([...form.entries()].filter(([, v]) => typeof v === "string")) as Record<string, string>;

async function handle<S extends z.ZodType>(
  schema: S,
  form: FormData,
  deps: NetworkFormDeps,
  command: (ctx: CommandContext, input: z.infer<S>) => Promise<NetworkCommandResult>,
): Promise<NetworkFormAnswer> {
  const error = (message: string, extra: Partial<FormState> = {}): NetworkFormAnswer => ({
    state: { status: "error", message, values: valuesOf(form), nextKey: randomUUID(), ...extra },
  });
  try {
    const parsed = schema.safeParse(valuesOf(form));
    if (!parsed.success) {
      return error("Please correct the highlighted fields.", { fieldErrors: fieldErrors(parsed.error) });
    }
    const ctx = await deps.context();
    if (!ctx) return error(SIGNED_OUT_MESSAGE);
    const result = await command(ctx, parsed.data);
    if (!result.ok)
      return error(result.message, result.field ? { fieldErrors: { [result.field]: result.message } } : {});
    return {
      state: { status: "ok", message: result.message, nextKey: randomUUID() },
      accepted: result.network,
    };
  } catch (e) {
    console.error(`[portal] network action failed: ${e instanceof Error ? e.stack : e}`);
    return error(
      "The portal could not record the request (database or queue unavailable). Nothing was changed; try again.",
    );
  }
}

export type NetworkFormHandler = (deps: NetworkFormDeps, form: FormData) => Promise<NetworkFormAnswer>;

export const handleCreateNetwork: NetworkFormHandler = (deps, form) =>
  handle(createNetworkSchema(deps.regions), form, deps, (ctx, input) =>
    createNetwork(ctx, input, deps.settings),
  );

export const handleDestroyNetwork: NetworkFormHandler = (deps, form) =>
  handle(destroyNetworkSchema, form, deps, destroyNetwork);

export const NETWORK_OPERATIONS = ["refresh", "retry", "cancel", "remove"] as const;
export type NetworkOperation = (typeof NETWORK_OPERATIONS)[number];

const commands = {
  refresh: refreshNetwork,
  retry: retryNetworkOperation,
  cancel: cancelNetworkOperation,
  remove: removeNetwork,
} satisfies Record<NetworkOperation, unknown>;

/** Refresh, retry, cancel or remove, by the pressed button's `operation` value. */
export const handleNetworkOperation: NetworkFormHandler = (deps, form) => {
  const operation = form.get("operation");
  if (typeof operation !== "string" || !(NETWORK_OPERATIONS as readonly string[]).includes(operation)) {
    return Promise.resolve({ state: { status: "error", message: "Unknown operation: reload the page." } });
  }
  return handle(networkActionSchema, form, deps, commands[operation as NetworkOperation]);
};
