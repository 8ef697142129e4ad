// Server-sent events for one operation: its log/events as they are written ("event"), its progress
// ("progress"), and a final "end" when the operation is over. Polls PostgreSQL every 500 ms (an indexed range
// read); resumes after Last-Event-ID when the browser reconnects. The loop stops at once when the browser goes
// away (request aborted or stream cancelled), so no poller outlives its client.
import { z } from "zod";
import { eventsAfter, operationProgress } from "../../../../../../../features/environments/queries";
import { streamClosed, streamOpened } from "../../../../../../../server/event-streams";
import { routePrincipal } from "../../../../../../../server/identity";
import { rateLimiters } from "../../../../../../../server/limits";
import { isOperationActive } from "../../../../../../../shared/status";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const paramsSchema = z.object({ name: z.string().min(1).max(64), id: z.string().uuid() });
const lastEventIdSchema = z.string().regex(/^\d{1,19}$/);
const POLL_MS = 500;
const KEEP_ALIVE_MS = 15_000;

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
  const resumeFrom = lastEventIdSchema.safeParse(request.headers.get("last-event-id"));
  let after = BigInt(resumeFrom.success ? resumeFrom.data : "0");

  // Aborted when the client goes away, whichever way the runtime reports it.
  const gone = new AbortController();
  const leave = () => gone.abort();
  request.signal.addEventListener("abort", leave);
  const encoder = new TextEncoder();

  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      streamOpened();
      const write = (chunk: string) => {
        if (!gone.signal.aborted) controller.enqueue(encoder.encode(chunk));
      };
      const send = (event: string, data: unknown, eventId?: string) =>
        write(`${eventId ? `id: ${eventId}\n` : ""}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      let lastProgress = "";
      let lastWrite = Date.now();
      try {
        while (!gone.signal.aborted) {
          const op = await operationProgress(name, id);
          if (!op) {
            send("end", {
              status: "removed",
              done: 0,
              expected: 0,
              error: "The operation no longer exists.",
            });
            break;
          }
          for (;;) {
            const events = await eventsAfter(id, after);
            for (const e of events) {
              after = e.id;
              const eventId = e.id.toString();
              send("event", { id: eventId, type: e.type, severity: e.severity, message: e.message }, eventId);
              lastWrite = Date.now();
            }
            if (events.length < 500) break;
          }
          const progress = {
            status: op.status,
            done: op.progressDone,
            expected: op.progressExpected,
            error: op.error,
          };
          if (!isOperationActive(op.status)) {
            send("end", progress);
            break;
          }
          const key = JSON.stringify(progress);
          if (key !== lastProgress) {
            send("progress", progress);
            lastWrite = Date.now();
          }
          lastProgress = key;
          if (Date.now() - lastWrite > KEEP_ALIVE_MS) {
            write(": keep-alive\n\n");
            lastWrite = Date.now();
          }
          await sleep(POLL_MS, gone.signal);
        }
      } catch (e) {
        if (!gone.signal.aborted) console.error(`[portal] events stream: ${e}`);
      } finally {
        request.signal.removeEventListener("abort", leave);
        streamClosed();
        try {
          controller.close();
        } catch {
          // already closed: the client went away
        }
      }
    },
    cancel() {
      gone.abort();
    },
  });
  return new Response(stream, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    },
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
