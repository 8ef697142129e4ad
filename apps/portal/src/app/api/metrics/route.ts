// Prometheus metrics of this web process (live event streams, process figures), for a scraper that carries
// `Authorization: Bearer <METRICS_TOKEN>`. Without METRICS_TOKEN the route serves only the start command,
// which includes these figures in its own metrics listener (METRICS_PORT).
import { config } from "../../../server/env";
import { bearerAllowed, INTERNAL_METRICS_TOKEN_VARIABLE } from "../../../server/metrics/metrics-auth";
import { webRegistry } from "../../../server/metrics/web-metrics";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function GET(request: Request) {
  const tokens = [config().METRICS_TOKEN, process.env[INTERNAL_METRICS_TOKEN_VARIABLE]].filter(
    (t): t is string => !!t,
  );
  if (!bearerAllowed(request.headers.get("authorization"), tokens)) {
    return Response.json(
      { error: "metrics need Authorization: Bearer <METRICS_TOKEN> (or scrape METRICS_PORT)" },
      { status: 401, headers: { "www-authenticate": "Bearer" } },
    );
  }
  const registry = webRegistry();
  return new Response(await registry.metrics(), { headers: { "content-type": registry.contentType } });
}
