// Server-sent events for one operation, for the pages (the session's identity). The stream itself — one shared
// poller per operation (server/operation-feeds.ts), resume after Last-Event-ID or `?after=`, released when the
// browser goes away — is server/operation-stream.ts, shared with the API's /api/v1/…/events/stream. Past
// EVENT_STREAMS_MAX open streams the answer is 503 with Retry-After, and the browser tries again later.
import { z } from "zod";
import { operationProgress } from "../../../../../../../features/environments/queries";
import { routePrincipal } from "../../../../../../../server/identity";
import { rateLimiters } from "../../../../../../../server/limits";
import { operationEventStream } from "../../../../../../../server/operation-stream";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const paramsSchema = z.object({ name: z.string().min(1).max(64), id: z.string().uuid() });
const RETRY_AFTER_SECONDS = 5;

export async function GET(request: Request, { params }: { params: Promise<{ name: string; id: string }> }) {
  // Signed in (any role may watch), and within the per-person limit on opening streams.
  const principal = await routePrincipal(request);
  if (principal instanceof Response) return principal;
  const wait = await rateLimiters().streams.consume(principal.id);
  if (wait) {
    return Response.json(
      { error: "rate-limited", message: `Too many event streams opened: try again in ${wait} s.` },
      { status: 429, headers: { "retry-after": String(wait), "cache-control": "no-store" } },
    );
  }
  const parsed = paramsSchema.safeParse(await params);
  if (!parsed.success) return Response.json({ error: "unknown operation" }, { status: 404 });
  const { name, id } = parsed.data;
  if (!(await operationProgress(name, id))) {
    return Response.json({ error: `no operation ${id} on environment ${name}` }, { status: 404 });
  }
  return (
    operationEventStream(request, name, id) ??
    Response.json(
      { error: "Too many live views are open on this server right now; retrying shortly." },
      { status: 503, headers: { "retry-after": String(RETRY_AFTER_SECONDS) } },
    )
  );
}
