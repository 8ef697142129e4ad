// Server-sent events for one operation of a network: the same stream as environments' operations.
import { networkOperationProgress } from "../../../../../../../features/networks/queries";
import { pageOperationStream } from "../../../../../../../server/operation-stream";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function GET(request: Request, { params }: { params: Promise<{ name: string; id: string }> }) {
  return pageOperationStream(request, params, "network", networkOperationProgress);
}
