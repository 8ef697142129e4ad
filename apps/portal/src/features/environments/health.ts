// Live health of an environment, as its users see it: the frontend's readiness probe (/readyz of the voting
// app) asked through the public load balancer. The answer says whether a frontend replica answered and
// whether it reaches the Redis writer ("primary") and the read endpoint ("replica").
import { z } from "zod";

export type Health = "healthy" | "pending" | "failed" | "off" | "unknown";

export interface LiveHealth {
  balancer: Health;
  frontends: Health;
  writer: Health;
  reader: Health;
  /** The database, as the frontend sees it ("unknown" without one, or when the frontend does not say). */
  database: Health;
  /** Votes a frontend has acknowledged but not yet written to the database (the answering replica's). */
  databaseBacklog?: number;
  /** What a person should know, e.g. "the frontend did not answer within 1.5 s". */
  summary: string;
}

const check = z.object({ ok: z.boolean(), error: z.string().optional() });
const databaseCheck = check.extend({ backlog: z.number().int().nonnegative().optional() });
const readyzSchema = z.object({
  status: z.string(),
  checks: z
    .object({ primary: check.optional(), replica: check.optional(), database: databaseCheck.optional() })
    .partial()
    .default({}),
});

const PROBE_TIMEOUT_MS = 1500;

/** Asks `${frontendUrl}/readyz`. Never throws: an unreachable frontend is a health result too. */
export async function probeHealth(frontendUrl: string): Promise<LiveHealth> {
  let response: Response;
  try {
    response = await fetch(new URL("/readyz", frontendUrl), {
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      cache: "no-store",
    });
  } catch {
    return {
      balancer: "failed",
      frontends: "unknown",
      writer: "unknown",
      reader: "unknown",
      database: "unknown",
      summary: `The frontend did not answer at ${frontendUrl} within ${PROBE_TIMEOUT_MS / 1000} s.`,
    };
  }
  const parsed = readyzSchema.safeParse(await response.json().catch(() => null));
  if (!parsed.success) {
    return {
      balancer: "healthy",
      frontends: "failed",
      writer: "unknown",
      reader: "unknown",
      database: "unknown",
      summary: `The frontend answered ${response.status} without a readiness report.`,
    };
  }
  const { primary, replica, database } = parsed.data.checks;
  const of = (c?: { ok: boolean }): Health => (c ? (c.ok ? "healthy" : "failed") : "unknown");
  const writer = of(primary);
  const reader = replica ? of(replica) : writer;
  const problems = [
    primary && !primary.ok ? `Redis writer: ${primary.error ?? "no answer"}` : "",
    replica && !replica.ok ? `Redis reader: ${replica.error ?? "no answer"}` : "",
    database && !database.ok
      ? `Database: ${database.error ?? "no answer"}${database.backlog ? ` (${database.backlog} votes waiting)` : ""}`
      : "",
  ].filter(Boolean);
  return {
    balancer: "healthy",
    frontends: "healthy",
    writer,
    reader,
    database: of(database),
    databaseBacklog: database?.backlog,
    summary: problems.length ? problems.join("; ") : "All tiers answer.",
  };
}

/** Health implied by the environment's status alone (nothing to probe, or an operation is changing it). */
export function healthFromStatus(status: string): Health {
  if (status === "ready") return "healthy";
  if (status === "failed") return "failed";
  if (status === "destroyed" || status === "queued") return "off";
  return "pending";
}
