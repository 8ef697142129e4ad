// The worker's ECS task scale-in protection, against a stand-in for the ECS agent's endpoint (a real HTTP
// server on loopback): protected while operations run, unprotected when idle, one call per change.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskProtection } from "../../src/server/worker/task-protection";

let server: Server;
let agentUri: string;
const calls: { method?: string; url?: string; body: unknown }[] = [];
let answer = 200;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      calls.push({ method: req.method, url: req.url, body: JSON.parse(body || "null") });
      res.writeHead(answer, { "content-type": "application/json" }).end(JSON.stringify({ protection: {} }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  agentUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

describe("task scale-in protection", () => {
  it("protects the task while operations run and lifts it when none does", async () => {
    calls.length = 0;
    const lines: string[] = [];
    const p = new TaskProtection({ agentUri, expiresInMinutes: 60, log: (l) => lines.push(l) });
    await p.busy(1);
    await p.busy(2); // already protected: no call
    await p.busy(1);
    await p.busy(0);
    await p.busy(0);
    p.stop();
    expect(calls).toEqual([
      {
        method: "PUT",
        url: "/task-protection/v1/state",
        body: { ProtectionEnabled: true, ExpiresInMinutes: 60 },
      },
      { method: "PUT", url: "/task-protection/v1/state", body: { ProtectionEnabled: false } },
    ]);
    expect(lines).toEqual(["task scale-in protection on", "task scale-in protection off"]);
  });

  it("never fails the worker when the agent refuses; it tries again on the next change", async () => {
    calls.length = 0;
    answer = 400;
    const lines: string[] = [];
    const p = new TaskProtection({ agentUri, log: (l) => lines.push(l) });
    await p.busy(1);
    expect(lines[0]).toMatch(/^could not set task scale-in protection: the ECS agent answered 400/);
    answer = 200;
    await p.busy(2);
    p.stop();
    expect(calls).toHaveLength(2);
    expect(lines.at(-1)).toBe("task scale-in protection on");
  });
});
