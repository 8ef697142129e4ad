// The pure parts of the local target's supervision: supervisord's XML-RPC answers, the event listener's records,
// the pairing of exits with restarts, reading the events file across a rotation, and observed counts.
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ProcessStateEvent } from "../../src/local/supervisor-events";
import { selfHealing, supervisor } from "../helpers/infra";

const load = createRequire(__filename);
const rpc: typeof import("../../src/local/supervisor-rpc") = load("../../dist/local/supervisor-rpc.js");
const events: typeof import("../../src/local/supervisor-events") = load(
  "../../dist/local/supervisor-events.js",
);
const operations: typeof import("../../src/operations/create-operations") = load(
  "../../dist/operations/create-operations.js",
);

const tmp = mkdtempSync(path.join(os.tmpdir(), "infra-supervision-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("supervisord's XML-RPC answers", () => {
  const member = (name: string, value: string) =>
    `<member>\n<name>${name}</name>\n<value>${value}</value>\n</member>\n`;
  it("reads a struct (getProcessInfo), nested arrays (reloadConfig) and a fault", () => {
    const info = `<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n${member("name", "<string>web</string>")}${member("pid", "<int>13740</int>")}${member("statename", "<string>RUNNING</string>")}${member("spawnerr", "<string></string>")}${member("description", "<string>pid 13740, uptime 0:00:05 &amp; more</string>")}</struct></value>\n</param>\n</params>\n</methodResponse>\n`;
    expect(rpc.parseResponse(info)).toEqual({
      name: "web",
      pid: 13740,
      statename: "RUNNING",
      spawnerr: "",
      description: "pid 13740, uptime 0:00:05 & more",
    });
    const empty = "<value><array><data>\n</data></array></value>\n";
    const reload = `<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><array><data>\n<value><array><data>\n<value><array><data>\n<value><string>frontend-2</string></value>\n</data></array></value>\n${empty}${empty}</data></array></value>\n</data></array></value>\n</param>\n</params>\n</methodResponse>\n`;
    expect(rpc.parseResponse(reload)).toEqual([[["frontend-2"], [], []]]);
    expect(
      rpc.parseResponse(
        "<methodResponse><params><param><value><boolean>1</boolean></value></param></params></methodResponse>",
      ),
    ).toBe(true);
    const fault = `<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n${member("faultCode", "<int>10</int>")}${member("faultString", "<string>BAD_NAME: nope</string>")}</struct></value>\n</fault>\n</methodResponse>\n`;
    expect(() => rpc.parseResponse(fault)).toThrow(rpc.RpcFault);
    try {
      rpc.parseResponse(fault);
    } catch (err) {
      expect(err).toMatchObject({ code: 10, kind: "BAD_NAME", message: "BAD_NAME: nope" });
    }
  });

  it("puts sockets of long data folders in the temp folder (unix socket paths are limited)", () => {
    const long = `/data/${"x".repeat(120)}/env`;
    expect(supervisor.socketPathFor("/data/env", "supervisor.sock")).toBe("/data/env/run/supervisor.sock");
    const moved = supervisor.socketPathFor(long, "supervisor.sock");
    expect(moved.startsWith(os.tmpdir())).toBe(true);
    expect(Buffer.byteLength(moved)).toBeLessThan(108);
    expect(supervisor.socketPathFor(long, "supervisor.sock")).toBe(moved);
  });
});

describe("process state events", () => {
  it("records supervisord's PROCESS_STATE events and ignores others", () => {
    const at = new Date("2026-12-01T10:00:00Z");
    expect(
      events.parseEvent(
        "ver:3.0 server:supervisor serial:21 pool:process-events poolserial:10 eventname:PROCESS_STATE_EXITED len:71",
        "processname:redis-0 groupname:redis-0 from_state:RUNNING expected:0 pid:2766",
        at,
      ),
    ).toEqual({
      at: at.toISOString(),
      state: "EXITED",
      process: "redis-0",
      from: "RUNNING",
      pid: 2766,
      expected: 0,
      tries: undefined,
    });
    expect(events.parseEvent("ver:3.0 eventname:TICK_5 len:15", "when:1234567890", at)).toBeUndefined();
  });
});

const e = (at: string, state: string, process: string, pid?: number): ProcessStateEvent => ({
  at: `2026-12-01T10:00:${at}Z`,
  state,
  process,
  pid,
});

describe("repairs", () => {
  it("pairs an unexpected exit with the start that replaced it, and a give-up with its exit", () => {
    const { repairs, open } = selfHealing.pairRepairs(
      [
        e("00.000", "RUNNING", "web", 10),
        e("01.000", "EXITED", "frontend-1", 11),
        e("01.005", "STARTING", "frontend-1"),
        e("02.250", "RUNNING", "frontend-1", 12),
        e("03.000", "EXITED", "redis-0", 13),
        e("03.100", "BACKOFF", "redis-0"),
        e("09.000", "FATAL", "redis-0"),
        e("10.000", "EXITED", "frontend-0", 14),
      ],
      {},
    );
    expect(repairs).toEqual([
      {
        process: "frontend-1",
        outcome: "restarted",
        exitedAt: "2026-12-01T10:00:01.000Z",
        pid: 11,
        newPid: 12,
        at: "2026-12-01T10:00:02.250Z",
        downMs: 1250,
      },
      {
        process: "redis-0",
        outcome: "gave-up",
        exitedAt: "2026-12-01T10:00:03.000Z",
        pid: 13,
        at: "2026-12-01T10:00:09.000Z",
      },
    ]);
    // An exit not followed by anything yet stays open for the next read.
    expect(open).toEqual({ "frontend-0": { pid: 14, exitedAt: "2026-12-01T10:00:10.000Z" } });
  });

  it("does not count a stop an operation asked for", () => {
    const { repairs, open } = selfHealing.pairRepairs(
      [e("00.000", "STOPPING", "web", 1), e("00.500", "STOPPED", "web", 1), e("01.000", "RUNNING", "web", 2)],
      {},
    );
    expect(repairs).toEqual([]);
    expect(open).toEqual({});
  });

  it("reads the events file from where it stopped, across a rotation, whole lines only", () => {
    const envDir = path.join(tmp, "env");
    mkdirSync(path.join(envDir, "run"), { recursive: true });
    const file = supervisor.supervisorPaths(envDir).eventsFile;
    const line = (ev: ProcessStateEvent) => `${JSON.stringify(ev)}\n`;
    expect(selfHealing.readRepairs(envDir).repairs).toEqual([]);

    appendFileSync(file, line(e("01.000", "EXITED", "frontend-1", 11)));
    const first = selfHealing.readRepairs(envDir);
    expect(first.repairs).toEqual([]);
    expect(first.cursor.open["frontend-1"]).toBeDefined();

    appendFileSync(file, line(e("02.000", "RUNNING", "frontend-1", 12)));
    appendFileSync(file, '{"at":"2026-12-01T10:00:03Z","state":"EXI'); // being written
    const second = selfHealing.readRepairs(envDir, first.cursor);
    expect(second.repairs).toMatchObject([{ process: "frontend-1", pid: 11, newPid: 12 }]);
    // Nothing new: nothing reported twice.
    expect(selfHealing.readRepairs(envDir, second.cursor).repairs).toEqual([]);

    // The listener finishes the line, then rotates the file and writes on in a new one.
    appendFileSync(file, 'TED","process":"redis-0","pid":21}\n');
    renameSync(file, `${file}.1`);
    appendFileSync(file, line(e("04.000", "RUNNING", "redis-0", 22)));
    const third = selfHealing.readRepairs(envDir, second.cursor);
    expect(third.repairs).toMatchObject([{ process: "redis-0", outcome: "restarted", pid: 21, newPid: 22 }]);
    expect(selfHealing.readRepairs(envDir, third.cursor).repairs).toEqual([]);
  });
});

describe("observed topology", () => {
  const local = (type: string, name: string) => ({
    urn: `urn:pulumi:e::voting-environments::platform:local:VotingEnvironment$pulumi-nodejs:dynamic/local:${type}::${name}`,
    type: `pulumi-nodejs:dynamic/local:${type}`,
  });
  it("counts running local services", () => {
    expect(
      operations.observedTopology("e", [
        local("Supervisor", "supervisor"),
        local("RedisServer", "redis-0"),
        local("RedisServer", "redis-1"),
        local("VotingApp", "frontend-0"),
        local("HttpLoadBalancer", "web"),
      ]),
    ).toEqual({ frontendReplicas: 1, redisReplicas: 2 });
  });
  it("reads the ECS services' desired counts on AWS", () => {
    const service = (name: string, desiredCount: number) => ({
      urn: `urn:pulumi:e::voting-environments::platform:aws:VotingEnvironment$aws:ecs/service:Service::${name}`,
      type: "aws:ecs/service:Service",
      outputs: { desiredCount },
    });
    expect(
      operations.observedTopology("e", [
        service("e-frontend", 3),
        service("e-redis-writer", 1),
        service("e-redis-replicas", 2),
      ]),
    ).toEqual({ frontendReplicas: 3, redisReplicas: 3 });
  });
});
