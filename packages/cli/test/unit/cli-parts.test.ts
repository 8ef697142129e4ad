// envctl's parts without a portal: option tables and --set, the SSE reader over split chunks, progress output on
// and off a terminal, exit codes for API statuses and for bad command lines, and the client's retries (a local
// HTTP server answering 503 then 202, and the portal's error shape).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli.js";
import { PortalClient } from "../../src/client.js";
import { CliError, EXIT, exitCodeForStatus } from "../../src/errors.js";
import { CREATE_OPTIONS, fieldsFrom, integer, optionKey, parseSet } from "../../src/options.js";
import { bar, plainView, terminalView } from "../../src/progress.js";
import { readEvents } from "../../src/sse.js";

function capture(tty = false) {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & { text: () => string };
  let text = "";
  (stream as unknown as PassThrough).on("data", (d) => {
    text += d;
  });
  Object.assign(stream, { isTTY: tty, columns: 80, text: () => text });
  return stream;
}

describe("options", () => {
  it("map flags to API fields (a new API field is one row), and --set passes any field", () => {
    expect(optionKey("--allow-reset")).toBe("allowReset");
    expect(optionKey("--frontends <n>")).toBe("frontends");
    expect(
      fieldsFrom(CREATE_OPTIONS, { frontends: 2, redis: 1, ttl: 4, team: "team-a", allowReset: true }),
    ).toEqual({
      frontendReplicas: 2,
      redisReplicas: 1,
      ttlHours: 4,
      team: "team-a",
      allowReset: true,
    });
    // The cache and database tiers: values as the form sends them (a switch sends "on", like its checkbox).
    expect(
      fieldsFrom(CREATE_OPTIONS, {
        cache: "elasticache",
        database: "postgres",
        dbStorage: 20,
        dbDeletionProtection: true,
      }),
    ).toEqual({
      cacheKind: "elasticache",
      database: "postgres",
      dbStorageGb: 20,
      dbDeletionProtection: "on",
    });
    expect(parseSet("cacheKind=elasticache", parseSet("dbStorageGb=20"))).toEqual({
      cacheKind: "elasticache",
      dbStorageGb: 20,
    });
    expect(parseSet('note="007"')).toEqual({ note: "007" });
    expect(() => parseSet("novalue")).toThrow(InvalidArgumentError);
    expect(integer(" 3 ")).toBe(3);
    expect(() => integer("3.5")).toThrow(InvalidArgumentError);
  });
});

describe("the event stream reader", () => {
  it("reassembles events split anywhere, with comments, CRLF and multi-line data", async () => {
    const text =
      ': keep-alive\n\nid: 7\r\nevent: event\r\ndata: {"id":"7",\r\ndata: "message":"hi"}\r\n\r\nevent: end\ndata: {"status":"succeeded"}\n\n';
    const bytes = new TextEncoder().encode(text);
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i += 5) c.enqueue(bytes.slice(i, i + 5));
        c.close();
      },
    });
    const events = [];
    for await (const e of readEvents(body)) events.push(e);
    expect(events).toEqual([
      { event: "event", data: '{"id":"7",\n"message":"hi"}', id: "7" },
      { event: "end", data: '{"status":"succeeded"}', id: "7" },
    ]);
  });
});

describe("progress output", () => {
  it("is plain lines off a terminal (progress only when it changes)", () => {
    const out = capture();
    const view = plainView(out, "create pr-1");
    view.progress(0, 0, "queued");
    view.progress(0, 0, "queued");
    view.log("create started");
    view.progress(3, 8, "running");
    expect(out.text()).toBe("create pr-1: queued\ncreate started\ncreate pr-1: running (3/8 steps)\n");
  });
  it("is a bar redrawn under the live log on a terminal", () => {
    const out = capture(true);
    const view = terminalView(out, "scale pr-1");
    view.progress(4, 8, "running");
    view.log("a line");
    view.finish();
    expect(bar(4, 8)).toBe(`[${"#".repeat(15)}${"-".repeat(15)}]`);
    expect(out.text()).toBe(
      `\r\x1b[2Kscale pr-1 ${bar(4, 8)} 50% 4/8 steps running\r\x1b[2Ka line\n\r\x1b[2Kscale pr-1 ${bar(4, 8)} 50% 4/8 steps running\r\x1b[2K`,
    );
  });
});

describe("exit codes", () => {
  it("follow the API's status: bad input 2, refused 3, failures 1", () => {
    expect([400, 415, 422].map(exitCodeForStatus)).toEqual([2, 2, 2]);
    expect([401, 403, 404, 409, 429].map(exitCodeForStatus)).toEqual([3, 3, 3, 3, 3]);
    expect([500, 502, 503].map(exitCodeForStatus)).toEqual([1, 1, 1]);
  });
  it("are 2 for a bad command line, 0 for help", async () => {
    const io = () => ({
      stdout: capture(),
      stderr: capture(),
      stdin: process.stdin,
      env: { XDG_CONFIG_HOME: "/nonexistent-envctl" },
    });
    expect(await main(["node", "envctl", "frobnicate"], io())).toBe(EXIT.badInput);
    expect(await main(["node", "envctl", "create"], io())).toBe(EXIT.badInput);
    expect(await main(["node", "envctl", "create", "x", "--frontends", "two"], io())).toBe(EXIT.badInput);
    expect(await main(["node", "envctl", "destroy", "x"], io())).toBe(EXIT.badInput);
    const notLoggedIn = io();
    expect(await main(["node", "envctl", "list"], notLoggedIn)).toBe(EXIT.badInput);
    expect((notLoggedIn.stderr as unknown as { text: () => string }).text()).toMatch(/Not logged in/);
    expect(await main(["node", "envctl", "--help"], io())).toBe(EXIT.ok);
  });
});

describe("the API client", () => {
  it("retries 503s and dropped connections with the same Idempotency-Key, and maps the error shape", async () => {
    const seen: { key?: string; auth?: string }[] = [];
    const server = createServer((req, res) => {
      seen.push({ key: req.headers["idempotency-key"] as string, auth: req.headers.authorization });
      res.setHeader("content-type", "application/json");
      if (req.url === "/api/v1/refused") {
        res.statusCode = 403;
        res.end(JSON.stringify({ code: "quota", message: "Quota: at most 5 per person.", field: "name" }));
      } else if (seen.length === 1) {
        res.statusCode = 503;
        res.setHeader("retry-after", "1");
        res.end("{}");
      } else if (seen.length === 2) {
        req.socket.destroy(); // a dropped connection
      } else {
        res.statusCode = 202;
        res.end(JSON.stringify({ message: "Create requested." }));
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const client = new PortalClient({ url, token: "envp_t", sleep: async () => {} });
      expect(await client.post("/api/v1/environments", { name: "x" }, "key-1")).toEqual({
        message: "Create requested.",
      });
      expect(seen.map((s) => s.key)).toEqual(["key-1", "key-1", "key-1"]);
      expect(seen[0]?.auth).toBe("Bearer envp_t");
      const error = await client.get<never>("/api/v1/refused").catch((e: unknown) => e as CliError);
      expect(error).toBeInstanceOf(CliError);
      expect(error).toMatchObject({ exitCode: EXIT.refused, body: { code: "quota", field: "name" } });
      const unreachable = await new PortalClient({
        url: "http://127.0.0.1:9",
        token: "t",
        sleep: async () => {},
      })
        .get<never>("/api/v1/me")
        .catch((e: unknown) => e as CliError);
      expect(unreachable).toMatchObject({ exitCode: EXIT.failed });
      expect(unreachable.message).toMatch(/Could not reach the portal/);
    } finally {
      server.close();
    }
  });
});
