// Server-sent events for one operation of an environment, for the pages (the session's identity). The stream
// itself is server/operation-stream.ts, shared with networks' operations and the API's
// /api/v1/…/events/stream.
import { operationProgress } from "../../../../../../../features/environments/queries";
import { pageOperationStream } from "../../../../../../../server/operation-stream";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function GET(request: Request, { params }: { params: Promise<{ name: string; id: string }> }) {
  return pageOperationStream(request, params, "environment", operationProgress);
}
