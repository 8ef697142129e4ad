// Server-sent events for one operation of an environment, for the pages (the session's identity). The stream
// itself is server/operation-stream.ts, shared with networks' operations and the API's
// /api/v1/…/events/stream.
import { z } from "zod";
import { operationProgress } from "../../../../../../../features/environments/queries";
import {
  operationEventStream,
  streamRefusal,
  tooManyStreams,
} from "../../../../../../../server/operation-stream";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const paramsSchema = z.object({ name: z.string().min(1).max(64), id: z.string().uuid() });

export async function GET(request: Request, { params }: { params: Promise<{ name: string; id: string }> }) {
  const refused = await streamRefusal(request);
  if (refused) return refused;
  const parsed = paramsSchema.safeParse(await params);
  if (!parsed.success) return Response.json({ error: "unknown operation" }, { status: 404 });
  const { name, id } = parsed.data;
  if (!(await operationProgress(name, id))) {
    return Response.json({ error: `no operation ${id} on environment ${name}` }, { status: 404 });
  }
  return operationEventStream(request, id, { environment: name }) ?? tooManyStreams();
}
