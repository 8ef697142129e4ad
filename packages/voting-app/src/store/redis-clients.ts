import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { Redis, type RedisOptions } from "ioredis";
import type { RedisConfig, RedisEndpoint } from "../config.js";

export interface ConnectionEvents {
  onReady(role: string): void;
  onDown(role: string, error: Error | undefined): void;
}

const lastErrors = new WeakMap<Redis, Error>();

/** The last connection error of a client made here (e.g. WRONGPASS, a certificate problem), for /readyz. */
export function lastConnectionError(client: Redis): Error | undefined {
  return lastErrors.get(client);
}

const guarded = new WeakSet<object>();

/**
 * ioredis listens for a socket's first 'error' only (`stream.once`). A socket can report a second one (a TLS
 * alert after a failed AUTH, seen with a TLS-only redis-server), which Node would throw as an unhandled
 * 'error' event and crash the app. Every socket gets a lasting listener once it connects or first fails.
 */
function guardStream(client: Redis, remember: (err: Error) => void): void {
  const stream = client.stream as (Redis["stream"] & object) | undefined;
  if (!stream || guarded.has(stream)) return;
  guarded.add(stream);
  stream.on("error", remember);
}

/** How long one Redis command may take before the request fails with 503 instead of hanging. */
export const COMMAND_TIMEOUT_MS = 1000;

/**
 * Builds an ioredis client tuned for a web app that must stay up while Redis is down:
 * - no offline queue: while disconnected, commands fail at once (the request gets 503, nothing hangs);
 * - a command timeout bounds requests on a half-dead connection;
 * - reconnect forever with capped backoff, so the app heals by itself when Redis is back;
 * - auto-pipelining batches concurrent commands into one round trip (the hot path under load).
 */
export function createRedisClient(
  endpoint: RedisEndpoint,
  config: RedisConfig,
  role: string,
  events: ConnectionEvents,
): Redis {
  const options: RedisOptions = {
    host: endpoint.host,
    port: endpoint.port,
    password: config.password,
    // TLS (ElastiCache in-transit encryption): the certificate is checked against the host name, and against
    // REDIS_TLS_CA_FILE when given (else Node's public CAs, which include Amazon's).
    tls: config.tls
      ? {
          // SNI takes host names only; an IP address is still checked against the certificate's IP entries.
          servername: isIP(endpoint.host) ? undefined : endpoint.host,
          ca: config.tlsCaFile ? readFileSync(config.tlsCaFile) : undefined,
        }
      : undefined,
    connectionName: `voting-app-${role}`,
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 5), 2000),
    // A replica that reports "loading" is not ready yet; ioredis waits for it before "ready".
    enableReadyCheck: true,
  };
  const client = new Redis(options);
  // Report each outage once (not every reconnect attempt); reset when the connection is ready again.
  // The 'error' listener is also what stops ioredis from crashing the process with an unhandled event.
  let outageReported = false;
  let lastError: Error | undefined;
  const remember = (err: Error) => {
    lastError = err;
    lastErrors.set(client, err);
  };
  client.on("connect", () => guardStream(client, remember));
  client.on("ready", () => {
    outageReported = false;
    events.onReady(role);
  });
  client.on("error", (err: Error) => {
    remember(err);
    guardStream(client, remember);
  });
  client.on("reconnecting", () => {
    if (!outageReported) {
      outageReported = true;
      events.onDown(role, lastError);
    }
  });
  return client;
}
