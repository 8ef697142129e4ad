// The local target's load balancers as the real detached programs (dist/local/*-balancer.js), in front of
// real servers started here.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { createConnection, createServer as createTcpServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { processControl } from "../helpers/infra";

const dist = path.resolve(__dirname, "../../dist/local");
let dir: string;
const children: ChildProcess[] = [];
const servers: Server[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "infra-lb-test-"));
});
afterEach(async () => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as { port: number }).port;
}

/** A frontend stand-in: answers its name; /readyz answers `ready()`'s status. */
async function frontend(name: string, ready = () => 200): Promise<{ port: number; server: Server }> {
  const server = createHttpServer((req, res) => {
    if (req.url === "/readyz") {
      res.writeHead(ready()).end();
      return;
    }
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => res.writeHead(200).end(`${name}${body ? ` got ${body}` : ""}`));
  });
  server.keepAliveTimeout = 100;
  return { port: await listen(server), server };
}

interface Started {
  port: number;
  configFile: string;
  statusFile: string;
  child: ChildProcess;
  version: number;
}

async function startBalancer(
  kind: "http" | "tcp",
  backends: { name: string; port: number }[],
): Promise<Started> {
  const port = await processControl.freePort();
  const configFile = path.join(dir, `${kind}-${port}.json`);
  const statusFile = path.join(dir, `${kind}-${port}.status.json`);
  const version = 1;
  writeFileSync(
    configFile,
    JSON.stringify({
      listenHost: "127.0.0.1",
      listenPort: port,
      version,
      backends: backends.map((b) => ({ ...b, host: "127.0.0.1" })),
      healthPath: kind === "http" ? "/readyz" : undefined,
      healthIntervalMs: 200,
      healthTimeoutMs: 200,
      statusFile,
    }),
  );
  const child = spawn(process.execPath, [path.join(dist, `${kind}-balancer.js`), configFile], {
    stdio: "ignore",
  });
  children.push(child);
  const s: Started = { port, configFile, statusFile, child, version };
  await waitForStatus(s, (st) => st.version === version);
  return s;
}

/** A balancer of `kind` in front of the named servers. */
function balancerOver(kind: "http" | "tcp", servers: Record<string, { port: number }>): Promise<Started> {
  return startBalancer(
    kind,
    Object.entries(servers).map(([name, { port }]) => ({ name, port })),
  );
}

/** `n` requests at once. */
function atOnce<T>(n: number, request: () => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: n }, request));
}

interface Status {
  version: number;
  backends: { name: string; healthy: boolean }[];
}

async function waitForStatus(s: Started, ok: (st: Status) => boolean, timeoutMs = 5000): Promise<Status> {
  const deadline = Date.now() + timeoutMs;
  let last: Status | undefined;
  while (Date.now() < deadline) {
    try {
      last = JSON.parse(readFileSync(s.statusFile, "utf8")) as Status;
      if (ok(last)) return last;
    } catch {
      // not written yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`status never matched: ${JSON.stringify(last)}`);
}

async function get(port: number, init?: RequestInit): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/`, { ...init, signal: AbortSignal.timeout(3000) });
  return `${res.status} ${await res.text()}`;
}

describe("HTTP load balancer", () => {
  it("spreads requests round-robin over healthy frontends and forwards bodies", async () => {
    const lb = await balancerOver("http", { a: await frontend("a"), b: await frontend("b") });
    const answers = await atOnce(4, () => get(lb.port));
    expect(new Set(answers)).toEqual(new Set(["200 a", "200 b"]));
    expect(await get(lb.port, { method: "POST", body: "vote" })).toMatch(/^200 [ab] got vote$/);
  });

  it("takes out a dead frontend at once (retrying the request) and one failing /readyz at its next check", async () => {
    let bReady = 200;
    const a = await frontend("a");
    const b = await frontend("b", () => bReady);
    const lb = await balancerOver("http", { a, b, c: await frontend("c") });
    await new Promise((r) => a.server.close(r));
    a.server.closeAllConnections();
    for (let i = 0; i < 6; i++) expect(await get(lb.port)).toMatch(/^200 [bc]$/);

    bReady = 503;
    const status = await waitForStatus(lb, (st) => st.backends.filter((x) => !x.healthy).length === 2);
    expect(status.backends.filter((x) => x.healthy).map((x) => x.name)).toEqual(["c"]);
    for (let i = 0; i < 4; i++) expect(await get(lb.port)).toBe("200 c");

    bReady = 200; // back in after a passing check
    await waitForStatus(lb, (st) => st.backends.find((x) => x.name === "b")?.healthy === true);
    const answers = new Set(await atOnce(4, () => get(lb.port)));
    expect(answers).toEqual(new Set(["200 b", "200 c"]));
  });

  it("answers 503 when no frontend is healthy", async () => {
    const lb = await balancerOver("http", { a: await frontend("a", () => 503) });
    await waitForStatus(lb, (st) => st.backends[0]?.healthy === false);
    expect(await get(lb.port)).toMatch(/^503 no healthy frontend/);
  });

  it("reloads its backends from the rewritten config on SIGHUP, keeping its port", async () => {
    const b = await frontend("b");
    const lb = await balancerOver("http", { a: await frontend("a") });
    expect(await get(lb.port)).toBe("200 a");
    const config = JSON.parse(readFileSync(lb.configFile, "utf8"));
    writeFileSync(
      lb.configFile,
      JSON.stringify({ ...config, version: 2, backends: [{ name: "b", host: "127.0.0.1", port: b.port }] }),
    );
    lb.child.kill("SIGHUP");
    await waitForStatus(lb, (st) => st.version === 2);
    expect(await get(lb.port)).toBe("200 b");
  });
});

describe("TCP load balancer", () => {
  async function echo(name: string): Promise<{ port: number; server: Server }> {
    const server = createTcpServer((s) => s.on("data", (d) => s.write(`${name}:${d}`))) as unknown as Server;
    return { port: await listen(server), server };
  }
  const roundTrip = (port: number, msg: string) =>
    new Promise<string>((resolve, reject) => {
      const s = createConnection({ port, host: "127.0.0.1" }, () => s.write(msg));
      s.once("data", (d) => {
        resolve(d.toString());
        s.destroy();
      });
      s.once("error", reject);
      s.setTimeout(3000, () => reject(new Error("timeout")));
    });

  it("forwards connections to healthy backends and skips a dead one", async () => {
    const a = await echo("a");
    const lb = await balancerOver("tcp", { a, b: await echo("b") });
    const first = new Set(await atOnce(4, () => roundTrip(lb.port, "ping")));
    expect(first).toEqual(new Set(["a:ping", "b:ping"]));
    await new Promise((r) => a.server.close(r));
    for (let i = 0; i < 4; i++) expect(await roundTrip(lb.port, "ping")).toBe("b:ping");
  });
});
