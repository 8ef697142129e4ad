// The local target's load balancers: HAProxy with the configuration the provider writes, in front of real
// HTTP servers and real redis-servers started here.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Backend, BalancerConfig } from "../../src/local/haproxy";
import { sleep, waitFor } from "../helpers/environment";
import { haproxy, processControl } from "../helpers/infra";

let dir: string;
const children: ChildProcess[] = [];
const servers: Server[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "infra-haproxy-test-"));
});
afterEach(async () => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as { port: number }).port;
}

/** A frontend stand-in: answers its name; /healthz and /readyz answer what the test sets. */
async function frontend(name: string, health = { live: 200, ready: 200 }) {
  const server = createHttpServer((req, res) => {
    if (req.url === "/healthz") return void res.writeHead(health.live).end();
    if (req.url === "/readyz") return void res.writeHead(health.ready).end();
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () =>
      res
        .writeHead(200)
        .end(`${name}${body ? ` got ${body}` : ""} for ${req.headers["x-forwarded-for"] ?? "?"}`),
    );
  });
  server.keepAliveTimeout = 100;
  return { name, port: await listen(server), server, health };
}

interface Running {
  port: number;
  cfg: string;
  socket: string;
  child: ChildProcess;
  config: BalancerConfig;
}

async function startBalancer(
  mode: "http" | "tcp",
  backends: Backend[],
  extra: Partial<BalancerConfig> = {},
): Promise<Running> {
  const port = await processControl.freePort();
  const socket = path.join(dir, `${port}.sock`);
  const cfg = path.join(dir, `${port}.cfg`);
  const config: BalancerConfig = {
    mode,
    listenHost: "127.0.0.1",
    listenPort: port,
    backends,
    statsSocket: socket,
    version: 1,
    healthPath: mode === "http" ? "/healthz" : undefined,
    ...extra,
  };
  writeFileSync(cfg, haproxy.renderHaproxyConfig(config));
  const check = spawnSync("haproxy", ["-c", "-q", "-f", cfg], { encoding: "utf8" });
  expect(check.status, check.stderr).toBe(0);
  const child = spawn("haproxy", ["-W", "-db", "-f", cfg], { stdio: "ignore" });
  children.push(child);
  const running: Running = { port, cfg, socket, child, config };
  await waitForChecks(running);
  return running;
}

/** Until the balancer runs `version` and has checked every backend once. */
async function waitForChecks(b: Running, version = b.config.version, timeoutMs = 15_000): Promise<void> {
  await waitFor(
    "the balancer's first checks",
    async () => {
      const state = await haproxy.balancerState(b.socket);
      return (
        state?.version === version &&
        state.servers.length === b.config.backends.length &&
        state.servers.every((s) => s.checkStatus && s.checkStatus !== "INI")
      );
    },
    timeoutMs,
  );
}

const get = async (url: string, init?: RequestInit) => {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.text() };
};

const backendOf = (f: { name: string; port: number }): Backend => ({
  name: f.name,
  host: "127.0.0.1",
  port: f.port,
});

/** The frontends (first word of the answer) that served `n` requests. */
async function served(port: number, n: number): Promise<Set<string>> {
  const names = new Set<string>();
  for (let i = 0; i < n; i++) names.add((await get(`http://127.0.0.1:${port}/`)).body.split(" ")[0] ?? "");
  return names;
}

describe("HTTP balancer", () => {
  it("spreads requests round robin over live frontends and forwards bodies and the client address", async () => {
    const a = await frontend("a");
    const b = await frontend("b");
    const lb = await startBalancer("http", [a, b].map(backendOf));
    expect(await served(lb.port, 6)).toEqual(new Set(["a", "b"]));
    const posted = await get(`http://127.0.0.1:${lb.port}/vote`, { method: "POST", body: "option=Cats" });
    expect(posted.body).toMatch(/^[ab] got option=Cats for 127\.0\.0\.1$/);
  });

  it("takes out a frontend that fails its liveness check and brings it back, but keeps one that is only not ready", async () => {
    const a = await frontend("a");
    const b = await frontend("b", { live: 200, ready: 503 }); // its Redis is down: still alive
    const lb = await startBalancer("http", [a, b].map(backendOf));
    await sleep(2500); // several checks
    expect(await served(lb.port, 6)).toEqual(new Set(["a", "b"]));
    a.health.live = 500;
    await waitFor("a taken out", async () => {
      const state = await haproxy.balancerState(lb.socket);
      return state?.servers.find((s) => s.name === "a")?.status === "DOWN";
    });
    expect(await served(lb.port, 6)).toEqual(new Set(["b"]));
    a.health.live = 200;
    await waitFor("a back", async () => (await served(lb.port, 4)).has("a"));
  });

  it("retries a refused connection on another frontend at once, and answers 503 when none is left", async () => {
    const a = await frontend("a");
    const b = await frontend("b");
    const lb = await startBalancer("http", [a, b].map(backendOf));
    a.server.closeAllConnections();
    await new Promise((r) => a.server.close(r));
    // No request fails: the refused connection is retried on b (and a is marked down at once).
    for (let i = 0; i < 8; i++) expect((await get(`http://127.0.0.1:${lb.port}/`)).body).toMatch(/^b /);
    b.server.closeAllConnections();
    await new Promise((r) => b.server.close(r));
    await sleep(300);
    expect((await get(`http://127.0.0.1:${lb.port}/`)).status).toBe(503);
  });

  it("retries a GET that a frontend dropped without an answer on another one, but never a POST (no double vote)", async () => {
    const dropped: string[] = [];
    const dropper = createHttpServer((req) => {
      dropped.push(req.method ?? "?");
      req.socket.destroy(); // killed mid-request
    });
    const a = { name: "a", port: await listen(dropper) };
    const b = await frontend("b");
    const lb = await startBalancer("http", [a, b].map(backendOf));
    for (let i = 0; i < 6; i++) expect((await get(`http://127.0.0.1:${lb.port}/`)).body).toMatch(/^b /);
    const posts: number[] = [];
    for (let i = 0; i < 6; i++) {
      posts.push((await get(`http://127.0.0.1:${lb.port}/vote`, { method: "POST", body: "x" })).status);
    }
    const droppedPosts = dropped.filter((m) => m === "POST").length;
    // Each POST that reached the dropping frontend failed (502) and was not sent again.
    expect(posts.filter((s) => s === 502).length).toBe(droppedPosts);
    expect(posts.filter((s) => s === 200).length).toBe(6 - droppedPosts);
  });

  it("reloads with new backends on SIGUSR2: same port, same master process, new version applied", async () => {
    const a = await frontend("a");
    const lb = await startBalancer("http", [backendOf(a)]);
    const c = await frontend("c");
    const next = { ...lb.config, version: 2, backends: [backendOf(a), backendOf(c)] };
    writeFileSync(lb.cfg, haproxy.renderHaproxyConfig(next));
    // As the provider does: ask again if the master did not answer the first signal.
    for (let attempt = 1; ; attempt++) {
      lb.child.kill("SIGUSR2");
      try {
        await waitForChecks({ ...lb, config: next }, 2, 5000);
        break;
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
    expect(await served(lb.port, 6)).toEqual(new Set(["a", "c"]));
    expect(lb.child.exitCode).toBeNull();
  });

  it("refuses names and paths that cannot go into a config", () => {
    const base: BalancerConfig = {
      mode: "http",
      listenHost: "127.0.0.1",
      listenPort: 1,
      backends: [{ name: "x y", host: "127.0.0.1", port: 2 }],
      statsSocket: "/tmp/s.sock",
      version: 1,
    };
    expect(() => haproxy.renderHaproxyConfig(base)).toThrow(/backend name "x y"/);
    expect(() =>
      haproxy.renderHaproxyConfig({
        ...base,
        backends: [],
        healthPath: "/healthz\n  server evil 1.2.3.4:80",
      }),
    ).toThrow(/health path/);
  });
});

describe("TCP balancer for Redis", () => {
  const password = "test-password-1234567890";
  const redis = async (name: string, replicaOf?: number) => {
    const port = await processControl.freePort();
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
    args.push("--requirepass", password, "--masterauth", password, "--dir", dir);
    if (replicaOf) args.push("--replicaof", "127.0.0.1", String(replicaOf));
    const child = spawn("redis-server", args, { stdio: "ignore" });
    children.push(child);
    await waitFor(`${name} listening`, () => processControl.isListening(port));
    return { name, port, child };
  };
  const roleThrough = (port: number) =>
    spawnSync("redis-cli", ["-p", String(port), "--no-auth-warning", "ROLE"], {
      encoding: "utf8",
      env: { ...process.env, REDISCLI_AUTH: password },
    }).stdout.split("\n")[0];

  it("sends the writer endpoint only to the Redis that is a master (checked with AUTH, PING and its role)", async () => {
    const primary = await redis("primary");
    const replica = await redis("replica", primary.port);
    const writer = await startBalancer("tcp", [backendOf(replica), backendOf(primary)], {
      redisPassword: password,
      redisRole: "master",
    });
    const state = await haproxy.balancerState(writer.socket);
    expect(Object.fromEntries(state?.servers.map((s) => [s.name, s.status]) ?? [])).toEqual({
      primary: "UP",
      replica: "DOWN",
    });
    for (let i = 0; i < 4; i++) expect(roleThrough(writer.port)).toBe("master");
  });

  it("fails the reader endpoint over to the replica left when one stops", async () => {
    const primary = await redis("primary");
    const r1 = await redis("r1", primary.port);
    const r2 = await redis("r2", primary.port);
    const reader = await startBalancer("tcp", [backendOf(r1), backendOf(r2)], { redisPassword: password });
    r1.child.kill("SIGKILL");
    for (let i = 0; i < 6; i++) expect(roleThrough(reader.port)).toBe("slave");
  });
});
