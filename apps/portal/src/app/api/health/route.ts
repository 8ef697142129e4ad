// Liveness and readiness: answers 200 when the database answers. Also reports open event streams. Public (load
// balancers call it): it never says more than "unavailable" about a failure; the details go to the log.
import { db } from "../../../server/db";
import { openEventStreams } from "../../../server/event-streams";
import { webLogger } from "../../../server/logger";

export const dynamic = "force-dynamic";

export async function GET() {
  try {
    await db().$queryRaw`SELECT 1`;
    return Response.json({ status: "ok", eventStreams: openEventStreams() });
  } catch (e) {
    webLogger().error({ err: e }, "health: the database does not answer");
    return Response.json(
      { status: "unavailable", error: "the database does not answer" },
      { status: 503, headers: { "cache-control": "no-store" } },
    );
  }
}
