// A webhook receiver for tests: an HTTP server on 127.0.0.1 that records every request (headers and the raw
// body) and answers 500 to the first `failFirst` attempts of each delivery (by X-Portal-Delivery), 200 after.
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedHook {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
  at: number;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedHook[];
  stop(): Promise<void>;
}

export async function startWebhookReceiver(failFirst = 0): Promise<WebhookReceiver> {
  const received: ReceivedHook[] = [];
  const attempts = new Map<string, number>();
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => {
      body += c;
    });
    req.on("end", () => {
      const id = String(req.headers["x-portal-delivery"] ?? "");
      const n = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, n);
      const status = n <= failFirst ? 500 : 200;
      received.push({ headers: req.headers, body, status, at: Date.now() });
      res.statusCode = status;
      res.end(status === 200 ? "ok" : "not now");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/portal`,
    received,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
