// Webhooks: the forms' schemas and who may manage a team's webhooks (pure; the page and the server both use it).
import { z } from "zod";
import type { Principal } from "./access";

/** The team select's value for "every environment" (admins only). */
export const ALL_TEAMS = "*";

export const createWebhookSchema = z.object({
  team: z.string().trim().min(1, "Choose a team.").max(200),
  url: z.string().trim().min(1, "Enter the URL to call.").max(2000, "URL: at most 2000 characters."),
  description: z
    .string()
    .trim()
    .max(200, "Description: at most 200 characters.")
    .optional()
    .transform((v) => v || undefined),
});
export type CreateWebhookInput = z.infer<typeof createWebhookSchema>;

export const webhookActionSchema = z.object({
  id: z.string().uuid("Unknown webhook: reload the page."),
  intent: z.enum(["ping", "enable", "disable", "rotate", "delete"], { message: "Unknown action." }),
});

/**
 * Who may configure the webhooks of `team` (null: every environment): admins any; members their own teams'
 * (they act on those environments already); viewers none. Null when allowed, else why not.
 */
export function webhookRefusal(p: Pick<Principal, "role" | "teams">, team: string | null): string | null {
  if (p.role === "admin") return null;
  if (p.role === "viewer") return "You have read-only access (viewer): you cannot manage webhooks.";
  if (team === null) return "Only admins can manage webhooks for every environment.";
  if (!p.teams.includes(team)) return `Only members of team ${team} and admins can manage its webhooks.`;
  return null;
}
