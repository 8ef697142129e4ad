// The server-sent event stream of one operation, shared by the pages' route (/api/environments/…/events) and the
// API's (/api/v1/environments/…/events/stream): its log/events as they are written ("event"), its progress
// ("progress"), and a final "end" when the operation is over. Polls PostgreSQL every 500 ms (an indexed range
// read); resumes after Last-Event-ID (or `?after=`). The loop stops at once when the client goes away (request
// aborted or stream cancelled), so no poller outlives its client. The callers authenticate and rate-limit.
import { eventsAfter, operationProgress } from "../features/environments/queries";
import { isOperationActive } from "../shared/status";
import { streamClosed, streamOpened } from "./event-streams";

const POLL_MS = 500;
const KEEP_ALIVE_MS = 15_000;
const eventIdSchema = /^\d{1,19}$/;

/** Where a client resumes: Last-Event-ID (an EventSource reconnecting), else `?after=`, else the start. */
export function resumePoint(request: Request): bigint {
  const header = request.headers.get("last-event-id");
  if (header && eventIdSchema.test(header)) return BigInt(header);
  const after = new URL(request.url).searchParams.get("after");
  return after && eventIdSchema.test(after) ? BigInt(after) : 0n;
}

/** The stream of operation `id` of environment `name` (which the caller checked exists). */
export function operationEventStream(request: Request, name: string, id: string): Response {
  let after = resumePoint(request);
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
              send(
                "event",
                {
                  id: eventId,
                  type: e.type,
                  severity: e.severity,
                  message: e.message,
                  at: e.createdAt.toISOString(),
                },
                eventId,
              );
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
