// Liveness and readiness: answers 200 when the database answers. Also reports open event streams.
import { db } from "../../../server/db";
import { openEventStreams } from "../../../server/event-streams";

export const dynamic = "force-dynamic";

export async function GET() {
  try {
    await db().$queryRaw`SELECT 1`;
    return Response.json({ status: "ok", eventStreams: openEventStreams() });
  } catch (e) {
    return Response.json(
      { status: "unavailable", error: e instanceof Error ? e.message : String(e) },
      { status: 503 },
    );
  }
}
