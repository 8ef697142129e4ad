// Liveness and readiness: answers 200 when the database answers.
import { db } from "../../../server/db";

export const dynamic = "force-dynamic";

export async function GET() {
  try {
    await db().$queryRaw`SELECT 1`;
    return Response.json({ status: "ok" });
  } catch (e) {
    return Response.json(
      { status: "unavailable", error: e instanceof Error ? e.message : String(e) },
      { status: 503 },
    );
  }
}
