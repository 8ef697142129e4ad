// The start command's metrics listener (METRICS_HOST:METRICS_PORT, loopback by default): GET /metrics
// answers this process's registry (worker, fleet, drift, process figures) followed by its web server's
// (fetched from /api/metrics with an internal token), so one scrape covers the whole portal process. With
// METRICS_TOKEN set, a scrape must carry `Authorization: Bearer <METRICS_TOKEN>`.
import { createServer, type Server } from "node:http";
import type { Logger } from "../logger";
import { bearerAllowed } from "./metrics-auth";
import { processRegistry } from "./registry";

export interface MetricsServerOptions {
  host: string;
  port: number;
  token?: string;
  /** The web server's metrics (URL and the token it accepts), when this process started one. */
  web?: { url: string; token: string };
  logger: Logger;
}

async function webMetrics(web: NonNullable<MetricsServerOptions["web"]>): Promise<string> {
  try {
    const res = await fetch(web.url, {
      headers: { authorization: `Bearer ${web.token}` },
      signal: AbortSignal.timeout(3000),
    });
    if (!res.ok) return `# web metrics unavailable: HTTP ${res.status}\n`;
    return await res.text();
  } catch (e) {
    return `# web metrics unavailable: ${e instanceof Error ? e.message : String(e)}\n`;
  }
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<Server> {
  const registry = processRegistry();
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" || (path !== "/metrics" && path !== "/")) {
      res.writeHead(404, { "content-type": "text/plain" }).end("metrics are at /metrics\n");
      return;
    }
    if (options.token && !bearerAllowed(req.headers.authorization, [options.token])) {
      res
        .writeHead(401, { "content-type": "text/plain", "www-authenticate": "Bearer" })
        .end("send Authorization: Bearer <METRICS_TOKEN>\n");
      return;
    }
    void (async () => {
      try {
        const own = await registry.metrics();
        const web = options.web ? await webMetrics(options.web) : "";
        res.writeHead(200, { "content-type": registry.contentType }).end(`${own}\n${web}`);
      } catch (e) {
        options.logger.error({ err: e }, "metrics scrape failed");
        res.writeHead(500, { "content-type": "text/plain" }).end("metrics failed\n");
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server;
}
