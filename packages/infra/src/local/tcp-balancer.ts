// The local target's "internal" load balancer for Redis: a TCP proxy (like an NLB) from one stable port to
// healthy backends. Run as its own detached process: `node tcp-balancer.js <config.json>`.
import { createConnection, createServer, type Socket } from "node:net";
import { type Backend, BackendPool, logLine, runBalancer } from "./balancer-core";

function tcpCheck(backend: Backend, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: backend.host, port: backend.port });
    const done = (reason: string | undefined) => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(timeoutMs, () => done("timeout"));
    socket.once("connect", () => done(undefined));
    socket.once("error", (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
}

export function startTcpBalancer(configFile: string) {
  const log = logLine("tcp-balancer");
  const pool = new BackendPool(configFile, tcpCheck, log);
  const clients = new Set<Socket>();

  const server = createServer((client) => {
    clients.add(client);
    client.on("close", () => clients.delete(client));
    client.on("error", () => client.destroy());
    client.pause();
    const tryNext = (candidates: Backend[]) => {
      const backend = candidates.shift();
      if (!backend) {
        client.destroy();
        return;
      }
      const upstream = createConnection({ host: backend.host, port: backend.port });
      let connected = false;
      upstream.on("error", (err: NodeJS.ErrnoException) => {
        if (connected) {
          client.destroy();
          return;
        }
        // Nothing was sent yet: take the backend out and try the next one.
        pool.markDown(backend, err.code ?? err.message);
        tryNext(candidates);
      });
      upstream.once("connect", () => {
        connected = true;
        upstream.on("close", () => client.destroy());
        client.on("close", () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    tryNext(pool.candidates());
  });

  server.listen(pool.listenPort, pool.listenHost, () => {
    log(`listening on ${pool.listenHost}:${pool.listenPort}`);
    pool.start();
  });

  return {
    close: () =>
      new Promise<void>((resolve) => {
        pool.stop();
        for (const c of clients) c.destroy();
        server.close(() => resolve());
      }),
  };
}

if (require.main === module) runBalancer("tcp-balancer", startTcpBalancer);
