// Server-sent events for one operation: its log/events as they are written ("event"), its progress
// ("progress"), and a final "end" when the operation is over. Every viewer of an operation in this process
// shares one poller (server/operation-feeds.ts); a viewer resumes after Last-Event-ID (or `?after=`, for a
// browser that opens a new EventSource). The stream is released at once when the browser goes away. Past
// EVENT_STREAMS_MAX open streams the answer is 503 with Retry-After, and the browser tries again later.
import { z } from "zod";
import { operationProgress } from "../../../../../../../features/environments/queries";
import { operationFeeds } from "../../../../../../../server/event-streams";
import { routePrincipal } from "../../../../../../../server/identity";
import { rateLimiters } from "../../../../../../../server/limits";
import { webLogger } from "../../../../../../../server/logger";
import type { FeedEvent, FeedProgress } from "../../../../../../../server/operation-feeds";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const paramsSchema = z.object({ name: z.string().min(1).max(64), id: z.string().uuid() });
const eventIdSchema = z.string().regex(/^\d{1,19}$/);
const KEEP_ALIVE_MS = 15_000;
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
  const resume =
    eventIdSchema.safeParse(request.headers.get("last-event-id")).data ??
    eventIdSchema.safeParse(new URL(request.url).searchParams.get("after")).data;
  const after = resume === undefined ? undefined : BigInt(resume);

  const encoder = new TextEncoder();
  let release: (() => void) | null = null;
  let keepAlive: NodeJS.Timeout | undefined;
  let closed = false;

  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let lastWrite = Date.now();
      const write = (chunk: string) => {
        if (closed) return;
        try {
          controller.enqueue(encoder.encode(chunk));
          lastWrite = Date.now();
        } catch {
          finish(); // the client is gone
        }
      };
      const send = (event: string, data: unknown, eventId?: string) =>
        write(`${eventId ? `id: ${eventId}\n` : ""}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      const finish = () => {
        if (closed) return;
        closed = true;
        clearInterval(keepAlive);
        request.signal.removeEventListener("abort", finish);
        release?.();
        try {
          controller.close();
        } catch {
          // already closed
        }
      };
      release = operationFeeds().subscribe(id, after, {
        event: (e: FeedEvent) => {
          const eventId = e.id.toString();
          send("event", { id: eventId, type: e.type, severity: e.severity, message: e.message }, eventId);
        },
        progress: (p: FeedProgress) => send("progress", p),
        end: (p: FeedProgress | null) => {
          send(
            "end",
            p ?? { status: "removed", done: 0, expected: 0, error: "The operation no longer exists." },
          );
          finish();
        },
        error: (e) =>
          webLogger().error({ err: e, operationId: id, environment: name }, "event stream read failed"),
      });
      if (!release) return; // refused: answered below
      keepAlive = setInterval(() => {
        if (Date.now() - lastWrite > KEEP_ALIVE_MS) write(": keep-alive\n\n");
      }, KEEP_ALIVE_MS / 3);
      request.signal.addEventListener("abort", finish);
      if (request.signal.aborted) finish();
    },
    cancel() {
      closed = true;
      clearInterval(keepAlive);
      release?.();
    },
  });
  if (!release) {
    return Response.json(
      { error: "Too many live views are open on this server right now; retrying shortly." },
      { status: 503, headers: { "retry-after": String(RETRY_AFTER_SECONDS) } },
    );
  }
  return new Response(stream, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    },
  });
}
