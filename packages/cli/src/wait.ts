// Follows an operation to its end through the API's event stream, showing its log and progress; reconnects
// (resuming after the last event seen) when the connection drops.
import type { PortalClient } from "./client.js";
import { CliError, EXIT } from "./errors.js";
import type { ProgressView } from "./progress.js";
import { readEvents } from "./sse.js";
import type { Operation } from "./types.js";

export interface FollowResult {
  status: string;
  error: string | null;
}

const MAX_RECONNECTS = 20;

/** Streams `operation`'s events into `view` until it ends; returns its final status. */
export async function followOperation(
  client: PortalClient,
  operation: Operation,
  view: ProgressView,
): Promise<FollowResult> {
  let lastId: string | undefined;
  let reconnects = 0;
  for (;;) {
    let res: Response;
    try {
      res = await client.stream(operation.links.stream, lastId);
    } catch (e) {
      if (e instanceof CliError && e.exitCode !== EXIT.failed) throw e;
      if (++reconnects > MAX_RECONNECTS) throw e;
      await new Promise((r) => setTimeout(r, 1000));
      continue;
    }
    try {
      for await (const ev of readEvents(res.body as ReadableStream<Uint8Array>)) {
        const data = JSON.parse(ev.data) as Record<string, unknown>;
        if (ev.event === "event") {
          lastId = ev.id ?? String(data.id);
          view.log(String(data.message));
        } else if (ev.event === "progress") {
          view.progress(Number(data.done), Number(data.expected), String(data.status));
        } else if (ev.event === "end") {
          view.progress(Number(data.done), Number(data.expected), String(data.status));
          view.finish();
          return { status: String(data.status), error: (data.error as string | null) ?? null };
        }
      }
    } catch (e) {
      if (e instanceof SyntaxError)
        throw new CliError(`The portal sent an unreadable event: ${e.message}`, EXIT.failed);
      // the connection dropped: resume after the last event
    }
    if (++reconnects > MAX_RECONNECTS) {
      throw new CliError(
        "Lost the connection to the portal's event stream too often; giving up.",
        EXIT.failed,
      );
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
