// Server-sent events for one operation: its log/events as they are written ("event"), its progress
// ("progress"), and a final "end". Polls PostgreSQL every 500 ms (an indexed range read); resumes after
// Last-Event-ID when the browser reconnects.
import { z } from "zod";
import { eventsAfter, operationProgress } from "../../../../../../../features/environments/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const paramsSchema = z.object({ name: z.string().min(1).max(64), id: z.string().uuid() });
const POLL_MS = 500;

export async function GET(request: Request, { params }: { params: Promise<{ name: string; id: string }> }) {
  const parsed = paramsSchema.safeParse(await params);
  if (!parsed.success) return Response.json({ error: "unknown operation" }, { status: 404 });
  const { name, id } = parsed.data;
  const first = await operationProgress(name, id);
  if (!first) return Response.json({ error: `no operation ${id} on environment ${name}` }, { status: 404 });

  let after = BigInt(
    /^\d+$/.test(request.headers.get("last-event-id") ?? "")
      ? (request.headers.get("last-event-id") as string)
      : "0",
  );
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (event: string, data: unknown, eventId?: string) => {
        const idLine = eventId ? `id: ${eventId}\n` : "";
        controller.enqueue(encoder.encode(`${idLine}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
      };
      let lastProgress = "";
      try {
        while (!request.signal.aborted) {
          const op = await operationProgress(name, id);
          if (!op) break;
          for (;;) {
            const events = await eventsAfter(id, after);
            for (const e of events) {
              after = e.id;
              send(
                "event",
                { id: e.id.toString(), type: e.type, severity: e.severity, message: e.message },
                e.id.toString(),
              );
            }
            if (events.length < 500) break;
          }
          const progress = {
            status: op.status,
            done: op.progressDone,
            expected: op.progressExpected,
            error: op.error,
          };
          const key = JSON.stringify(progress);
          if (op.status !== "queued" && op.status !== "running") {
            send("end", progress);
            break;
          }
          if (key !== lastProgress) send("progress", progress);
          lastProgress = key;
          controller.enqueue(encoder.encode(": keep-alive\n\n"));
          await new Promise((r) => setTimeout(r, POLL_MS));
        }
      } catch (e) {
        if (!request.signal.aborted) console.error(`[portal] events stream: ${e}`);
      } finally {
        try {
          controller.close();
        } catch {
          // already closed by the client
        }
      }
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
