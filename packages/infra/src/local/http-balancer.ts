// The local target's "public" load balancer (like an ALB): one stable HTTP port that spreads requests
// round-robin over the healthy frontends. Health checks GET the configured path (/readyz); a frontend that
// fails a check or refuses a connection is taken out, and the request is retried on the next one.
// Run as its own detached process: `node http-balancer.js <config.json>`.
//
// Built on node:http rather than a proxy library: the work here is backend choice, health and retry, which
// proxy libraries leave to the caller; the forwarding itself is a few lines.
import {
  Agent,
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request,
  type ServerResponse,
} from "node:http";
import { createConnection, type Socket } from "node:net";
import { type Backend, BackendPool, logLine, runBalancer } from "./balancer-core";

/** Bodies are buffered so a request can be retried on another frontend; the voting app's are tiny. */
const MAX_BODY_BYTES = 1024 * 1024;

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

function httpCheck(path: string) {
  return (backend: Backend, timeoutMs: number): Promise<string | undefined> =>
    new Promise((resolve) => {
      const req = request({
        host: backend.host,
        port: backend.port,
        path,
        method: "GET",
        agent,
        timeout: timeoutMs,
      });
      req.on("response", (res) => {
        res.resume();
        resolve(
          res.statusCode && res.statusCode < 300 ? undefined : `GET ${path} answered ${res.statusCode}`,
        );
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      req.end();
    });
}

async function readBody(req: IncomingMessage): Promise<Buffer | "too-large"> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return "too-large";
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function forwardedHeaders(req: IncomingMessage): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ...req.headers };
  const client = req.socket.remoteAddress ?? "";
  headers["x-forwarded-for"] = req.headers["x-forwarded-for"]
    ? `${req.headers["x-forwarded-for"]}, ${client}`
    : client;
  headers["x-forwarded-proto"] = "http";
  if (req.headers.host) headers["x-forwarded-host"] = req.headers.host;
  return headers;
}

export function startHttpBalancer(configFile: string) {
  const log = logLine("http-balancer");
  // The check reads the path at call time, so a reloaded config can change it.
  const pool: BackendPool = new BackendPool(
    configFile,
    (b, t) => httpCheck(pool.healthPath ?? "/readyz")(b, t),
    log,
  );
  const sockets = new Set<Socket>();

  const send = (res: ServerResponse, status: number, message: string) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
    res.end(`${message}\n`);
  };

  const server = createServer(async (req, res) => {
    const body = await readBody(req).catch(() => Buffer.alloc(0));
    if (body === "too-large") return send(res, 413, "request body too large");
    const headers = forwardedHeaders(req);
    const candidates = pool.candidates();
    const attempt = () => {
      const backend = candidates.shift();
      if (!backend) return send(res, 503, "no healthy frontend available");
      const upstream = request({
        host: backend.host,
        port: backend.port,
        method: req.method,
        path: req.url,
        headers: { ...headers, "content-length": String(body.length) },
        agent,
      });
      let responded = false;
      upstream.on("response", (up) => {
        responded = true;
        res.writeHead(up.statusCode ?? 502, up.statusMessage, up.headers);
        up.pipe(res);
        up.on("error", () => res.destroy());
      });
      upstream.on("error", (err: NodeJS.ErrnoException) => {
        if (responded) return res.destroy();
        // The frontend is gone or reset the connection before answering: take it out, try the next one.
        if (err.code === "ECONNREFUSED" || err.code === "ECONNRESET" || err.code === "EPIPE") {
          pool.markDown(backend, err.code);
          return attempt();
        }
        send(res, 502, `frontend ${backend.name} failed: ${err.code ?? err.message}`);
      });
      upstream.end(body);
    };
    attempt();
  });

  // WebSocket and other upgrades: a plain TCP tunnel to one healthy frontend.
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const backend = pool.candidates()[0];
    if (!backend) return socket.destroy();
    const upstream = createConnection({ host: backend.host, port: backend.port }, () => {
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (head.length) upstream.write(head);
      socket.pipe(upstream);
      upstream.pipe(socket);
    });
    upstream.on("error", () => socket.destroy());
    socket.on("error", () => upstream.destroy());
  });

  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.keepAliveTimeout = 5000;

  server.listen(pool.listenPort, pool.listenHost, () => {
    log(`listening on http://${pool.listenHost}:${pool.listenPort}`);
    pool.start();
  });

  return {
    close: () =>
      new Promise<void>((resolve) => {
        pool.stop();
        server.close(() => resolve());
        // Idle keep-alive connections would hold close() open.
        server.closeIdleConnections();
        setTimeout(() => {
          for (const s of sockets) s.destroy();
        }, 1000).unref();
      }),
  };
}

if (require.main === module) runBalancer("http-balancer", startHttpBalancer);
