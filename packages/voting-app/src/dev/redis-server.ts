import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";

/**
 * Starts a throw-away `redis-server` (no persistence, loopback only) for tests, the benchmark and local
 * runs. Not used by the app itself.
 */
export interface RedisServer {
  host: "127.0.0.1";
  port: number;
  /** Stops the server (SIGTERM, then SIGKILL after 3 s) and removes its working folder. */
  stop(): Promise<void>;
  /** Kills the server abruptly, as a crash would. */
  kill(): Promise<void>;
}

export interface StartRedisOptions {
  /** Fixed port (e.g. to restart on the same port); a free one is picked when omitted. */
  port?: number;
  /** Start as a replica of the Redis on this local port. */
  replicaOf?: number;
  /** The redis-server binary; defaults to $REDIS_SERVER_PATH or `redis-server` on PATH. */
  bin?: string;
  /** Working folder, kept after stop (e.g. to restart with the same AOF files); default: a temp folder, removed. */
  dir?: string;
  /** AOF persistence (appendfsync always), as a managed cache keeps its data across restarts. */
  appendOnly?: boolean;
  /** `requirepass` */
  password?: string;
  /** Serve TLS only (no plaintext port), with these PEM files. */
  tls?: { certFile: string; keyFile: string; caFile: string };
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** A TCP port that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startRedisServer(options: StartRedisOptions = {}): Promise<RedisServer> {
  // A picked port can be taken between picking and binding; retry with a new one in that case.
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await startOnPort(port, options);
    } catch (err) {
      if (options.port !== undefined || attempt >= 3) throw err;
    }
  }
}

async function startOnPort(port: number, options: StartRedisOptions): Promise<RedisServer> {
  const bin = options.bin ?? process.env.REDIS_SERVER_PATH ?? "redis-server";
  const keepDir = options.dir !== undefined;
  const dir = options.dir ?? mkdtempSync(path.join(os.tmpdir(), "voting-redis-"));
  mkdirSync(dir, { recursive: true });
  const ports = options.tls
    ? [
        "--port",
        "0",
        "--tls-port",
        String(port),
        "--tls-cert-file",
        options.tls.certFile,
        "--tls-key-file",
        options.tls.keyFile,
        "--tls-ca-cert-file",
        options.tls.caFile,
        "--tls-auth-clients",
        "no",
      ]
    : ["--port", String(port)];
  const args = [
    ...ports,
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    options.appendOnly ? "yes" : "no",
    "--appendfsync",
    "always",
    "--dir",
    dir,
    // A new replica syncs at once instead of after Redis's default 5 s wait for more replicas.
    "--repl-diskless-sync-delay",
    "0",
  ];
  if (options.replicaOf !== undefined) args.push("--replicaof", "127.0.0.1", String(options.replicaOf));
  if (options.password) args.push("--requirepass", options.password);
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
  });
  child.stderr?.on("data", (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      running.delete(child);
      if (!keepDir) rmSync(dir, { recursive: true, force: true });
      resolve(code);
    });
    child.once("error", (err) => {
      output += String(err);
      running.delete(child);
      resolve(-1);
    });
  });

  const deadline = Date.now() + 10_000;
  for (;;) {
    const early = await Promise.race([exited, sleep(50).then(() => undefined)]);
    if (early !== undefined) throw new Error(`redis-server on port ${port} exited (${early}):\n${output}`);
    if (await pingOk(port, options.tls !== undefined)) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`redis-server on port ${port} did not answer PING within 10 s:\n${output}`);
    }
  }

  const stopWith = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
  };
  return { host: "127.0.0.1", port, stop: () => stopWith("SIGTERM"), kill: () => stopWith("SIGKILL") };
}

/** Sends a raw RESP PING; true when the server answers (+PONG, or -NOAUTH with a password set). */
function pingOk(port: number, useTls: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = useTls
      ? tls.connect({ port, host: "127.0.0.1", rejectUnauthorized: false })
      : net.connect({ port, host: "127.0.0.1" });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("error", () => done(false));
    socket.once(useTls ? "secureConnect" : "connect", () => socket.write("PING\r\n"));
    socket.once("data", (d) => done(/^(\+PONG|-NOAUTH)/.test(d.toString())));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
