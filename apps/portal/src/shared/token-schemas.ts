// Personal access tokens: the create form's schema (browser and server), scopes and what each allows.
import { z } from "zod";

export const TOKEN_SCOPES = ["read", "write"] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export const SCOPE_LABEL: Record<TokenScope, string> = {
  read: "Read: list and read environments, operations and their logs",
  write: "Read and write: also create, scale, refresh, reconcile, retry, cancel, destroy and remove",
};

export interface TokenLimits {
  /** Longest lifetime a token may be given, in days. */
  maxDays: number;
  /** Lifetime the form starts with. */
  defaultDays: number;
}

export function createTokenSchema(limits: TokenLimits) {
  return z.object({
    name: z
      .string()
      .trim()
      .min(1, "Give the token a name (what uses it, e.g. ci-pipeline).")
      .max(100, "Name: at most 100 characters."),
    scope: z.enum(TOKEN_SCOPES, { message: "Choose what the token may do." }),
    expiresInDays: z.coerce
      .number({ message: "Expiry must be a number of days." })
      .int("Expiry must be a whole number of days.")
      .min(1, "Expiry: at least 1 day.")
      .max(limits.maxDays, `Expiry: at most ${limits.maxDays} days.`),
  });
}
export type CreateTokenInput = z.infer<ReturnType<typeof createTokenSchema>>;

export const revokeTokenSchema = z.object({ id: z.string().uuid("Unknown token: reload the page.") });
