import type { FastifyInstance } from "fastify";
import type { AppConfig } from "./config.js";
import { createServer, type ServerOptions } from "./http/server.js";

export interface RunningApp {
  server: FastifyInstance;
  /** Base URL, e.g. http://127.0.0.1:41234 (the real port when config.port is 0). */
  url: string;
  port: number;
  /** Stops accepting, lets in-flight requests finish, closes Redis. */
  close(): Promise<void>;
}

/** Creates the server and starts listening on config.host:config.port (0 picks a free port). */
export async function startApp(config: AppConfig, options: ServerOptions = {}): Promise<RunningApp> {
  const server = createServer(config, options);
  try {
    await server.listen({ port: config.port, host: config.host });
  } catch (err) {
    await server.close(); // also closes the Redis connections it opened
    throw err;
  }
  const address = server.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return { server, port, url: `http://${urlHost}:${port}`, close: () => server.close() };
}
