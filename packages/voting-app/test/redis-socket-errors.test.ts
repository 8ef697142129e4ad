import { afterAll, beforeAll, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { type RedisServer, startRedisServer } from "../src/dev/redis-server.js";
import { createRedisClient, lastConnectionError } from "../src/store/redis-clients.js";

// A socket that reports two errors (e.g. a TLS alert after a failed AUTH) must not crash the app: ioredis
// itself listens for the first one only. Real redis-server; the second error is emitted on the real socket.
let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

it("a second error on a connection's socket is recorded, not thrown", async () => {
  const config = loadConfig({ REDIS_PORT: String(redis.port) });
  const client = createRedisClient(config.redis.primary, config.redis, "primary", {
    onReady: () => {},
    onDown: () => {},
  });
  try {
    await new Promise<void>((resolve) => client.once("ready", () => resolve()));
    const socket = client.stream;
    socket.emit("error", new Error("first"));
    expect(() => socket.emit("error", new Error("tlsv1 alert decode error"))).not.toThrow();
    expect(lastConnectionError(client)?.message).toBe("tlsv1 alert decode error");
  } finally {
    client.disconnect(false);
  }
});
