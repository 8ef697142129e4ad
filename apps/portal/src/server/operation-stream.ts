// Server-sent events for one operation (of an environment or a network), shared by the pages' routes
// (/api/environments/…/events, /api/networks/…/events) and the API's (/api/v1/environments/…/events/stream):
// its log/events as they are written ("event"), its progress ("progress"), and a final "end" when the
// operation is over. Every viewer of an operation in this process shares one poller (server/operation-feeds.ts,
// keyed by the operation alone); a viewer resumes after Last-Event-ID (or `?after=`, for a client that opens a
// new stream). The stream is released at once when the client goes away. Past EVENT_STREAMS_MAX open streams
// there is no stream: the pages answer 503 with Retry-After (tooManyStreams) and the browser tries again later;
// the API answers in its own error shape.
import { z } from "zod";
import { operationFeeds } from "./event-streams";
import { routePrincipal } from "./identity";
import { rateLimiters } from "./limits";
import { webLogger } from "./logger";
import type { FeedEvent, FeedProgress } from "./operation-feeds";

const eventIdSchema = /^\d{1,19}$/;
const KEEP_ALIVE_MS = 15_000;
const RETRY_AFTER_SECONDS = 5;

/** Where a client resumes: Last-Event-ID (an EventSource reconnecting), else `?after=`, else the start. */
export function resumePoint(request: Request): bigint | undefined {
  const header = request.headers.get("last-event-id");
  if (header && eventIdSchema.test(header)) return BigInt(header);
  const after = new URL(request.url).searchParams.get("after");
  return after && eventIdSchema.test(after) ? BigInt(after) : undefined;
}

/** Signed in (any role may watch) and within the per-person limit on opening streams; else the answer to send. */
async function streamRefusal(request: Request): Promise<Response | null> {
  const principal = await routePrincipal(request);
  if (principal instanceof Response) return principal;
  const wait = await rateLimiters().streams.consume(principal.id);
  if (!wait) return null;
  return Response.json(
    { error: "rate-limited", message: `Too many event streams opened: try again in ${wait} s.` },
    { status: 429, headers: { "retry-after": String(wait), "cache-control": "no-store" } },
  );
}

/** The pages' answer when this process already serves its maximum of open streams. */
function tooManyStreams(): Response {
  return Response.json(
    { error: "Too many live views are open on this server right now; retrying shortly." },
    { status: 503, headers: { "retry-after": String(RETRY_AFTER_SECONDS) } },
  );
}

/**
 * The event stream of operation `operationId` (whose existence the caller checked), or null when this process
 * already serves its maximum of open streams (EVENT_STREAMS_MAX). `logContext` names what it belongs to in
 * the web log (`{ environment }` or `{ network }`).
 */
export function operationEventStream(
  request: Request,
  operationId: string,
  logContext: Record<string, string>,
): Response | null {
  const after = resumePoint(request);
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
      release = operationFeeds().subscribe(operationId, after, {
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
        error: (e) => webLogger().error({ err: e, operationId, ...logContext }, "event stream read failed"),
      });
      if (!release) return; // refused: the caller answers
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
  if (!release) return null;
  return new Response(stream, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    },
  });
}

const pageStreamParams = z.object({ name: z.string().min(1).max(64), id: z.string().uuid() });

/**
 * The pages' route for the stream of operation `id` of environment or network `name`: signed in and within the
 * rate limit, the operation found by `exists` (404 otherwise), then the stream (503 past the cap).
 */
export async function pageOperationStream(
  request: Request,
  params: Promise<{ name: string; id: string }>,
  subject: "environment" | "network",
  exists: (name: string, id: string) => Promise<unknown>,
): Promise<Response> {
  const refused = await streamRefusal(request);
  if (refused) return refused;
  const parsed = pageStreamParams.safeParse(await params);
  if (!parsed.success) return Response.json({ error: "unknown operation" }, { status: 404 });
  const { name, id } = parsed.data;
  if (!(await exists(name, id))) {
    return Response.json({ error: `no operation ${id} on ${subject} ${name}` }, { status: 404 });
  }
  return operationEventStream(request, id, { [subject]: name }) ?? tooManyStreams();
}
