// Two worker hosts, simulated by two worker processes as `npm start` runs them (PORTAL_ROLE=worker) with two
// data folders and two host identities, sharing one PostgreSQL and one passphrase, running REAL local
// operations (Pulumi CLI, real processes). A local environment belongs to the host that runs its
// processes: its later operations wait for that host's worker, never run on the other. Each worker's JSON
// logs carry the operation and environment, and its metrics count what it ran.
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createDbClient, type PrismaClient } from "@platform/db";
import type PgBoss from "pg-boss";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CommandContext,
  createEnvironment,
  destroyEnvironment,
  scaleEnvironment,
} from "../../src/features/environments/commands";
import { startQueue } from "../../src/server/queue";
import { makePrincipal } from "../../src/shared/access";
import { startTestDatabaseServer, type TestDatabaseServer, waitFor } from "../helpers/database";
import { killProcessesUnder, type PortalProcess, startPortal } from "../helpers/portal-process";

let pg: TestDatabaseServer;
let url: string;
let db: PrismaClient;
let boss: PgBoss;
let ctx: CommandContext;
const root = mkdtempSync(path.join(tmpdir(), "portal-hosts-"));
const dirA = path.join(root, "host-a");
const dirB = path.join(root, "host-b");
const started: PortalProcess[] = [];

const worker = async (host: "host-a" | "host-b") => {
  const p = await startPortal({
    DATABASE_URL: url,
    PORTAL_ROLE: "worker",
    HOST_ID: host,
    DATA_DIR: host === "host-a" ? dirA : dirB,
    PULUMI_CONFIG_PASSPHRASE: "one passphrase for every host",
    WORKER_CONCURRENCY: "2",
  });
  started.push(p);
  return p;
};

/** Stops a worker gracefully, leaving its environments' processes running (as a host's restart does). */
const restart = async (p: PortalProcess) => {
  process.kill(p.pid, "SIGTERM");
  await p.exited;
};

const lastOperation = async (name: string) =>
  (
    await db.environment.findFirstOrThrow({
      where: { name, deletedAt: null },
      include: { lastOperation: true },
    })
  ).lastOperation;

const done = (name: string, timeoutMs = 120_000) =>
  waitFor(
    `${name}'s operation to finish`,
    async () => {
      const op = await lastOperation(name);
      return op && op.status !== "queued" && op.status !== "running" ? op : null;
    },
    timeoutMs,
    250,
  );

beforeAll(async () => {
  pg = await startTestDatabaseServer();
  url = await pg.fresh();
  db = createDbClient(url, { poolSize: 3 });
  boss = await startQueue(url, { role: "sender" });
  ctx = { db, boss, principal: makePrincipal("ops@example.com", "admin") };
}, 60_000);

afterAll(async () => {
  for (const p of started) await p.stop();
  await boss?.stop({ graceful: false, wait: true });
  await db?.$disconnect();
  await pg?.stop();
  killProcessesUnder(root);
  rmSync(root, { recursive: true, force: true });
});

describe("workers on two hosts", () => {
  it("each local environment's operations run on the host that runs its processes", async () => {
    const a = await worker("host-a");
    const create = (name: string) =>
      createEnvironment(ctx, {
        name,
        target: "local",
        frontendReplicas: 1,
        redisReplicas: 1,
        idempotencyKey: randomUUID(),
      });
    expect((await create("east")).ok).toBe(true);
    expect(await done("east")).toMatchObject({ status: "succeeded" });
    const east = await db.environment.findFirstOrThrow({ where: { name: "east", deletedAt: null } });
    expect(east.host).toBe("host-a");
    expect(existsSync(path.join(dirA, "environments", "east"))).toBe(true);
    const eastUrl = String((east.outputs as { frontendUrl: string }).frontendUrl);
    expect((await fetch(`${eastUrl}/healthz`)).status).toBe(200);

    // Host A restarts; meanwhile only host B has a worker.
    await restart(a);
    const b = await worker("host-b");
    expect((await create("west")).ok).toBe(true);
    expect(await done("west")).toMatchObject({ status: "succeeded" });
    expect((await db.environment.findFirstOrThrow({ where: { name: "west", deletedAt: null } })).host).toBe(
      "host-b",
    );
    expect(existsSync(path.join(dirB, "environments", "west"))).toBe(true);

    // A scale of east waits for host A's worker: host B never runs it.
    const scale = await scaleEnvironment(ctx, {
      name: "east",
      frontendReplicas: 2,
      redisReplicas: 1,
      idempotencyKey: randomUUID(),
    });
    expect(scale.ok).toBe(true);
    await new Promise((r) => setTimeout(r, 5000));
    expect(await lastOperation("east")).toMatchObject({ kind: "scale", status: "queued", workerId: null });
    expect((await fetch(`${eastUrl}/healthz`)).status).toBe(200); // untouched meanwhile

    const a2 = await worker("host-a");
    const scaled = await done("east");
    expect(scaled).toMatchObject({ kind: "scale", status: "succeeded" });
    expect(scaled?.workerId).toMatch(new RegExp(`^worker-${a2.pid}-`));
    expect(existsSync(path.join(dirB, "environments", "east"))).toBe(false);
    expect((await fetch(`${eastUrl}/healthz`)).status).toBe(200); // same URL: its balancer stayed

    // Both hosts up: each destroys its own.
    for (const name of ["east", "west"]) {
      expect(
        (await destroyEnvironment(ctx, { name, confirmation: name, idempotencyKey: randomUUID() })).ok,
      ).toBe(true);
    }
    const eastGone = await done("east");
    const westGone = await done("west");
    expect(eastGone).toMatchObject({ kind: "destroy", status: "succeeded" });
    expect(eastGone?.workerId).toMatch(new RegExp(`^worker-${a2.pid}-`));
    expect(westGone).toMatchObject({ kind: "destroy", status: "succeeded" });
    expect(westGone?.workerId).toMatch(new RegExp(`^worker-${b.pid}-`));
    expect(existsSync(path.join(dirA, "environments", "east"))).toBe(false);
    expect(existsSync(path.join(dirB, "environments", "west"))).toBe(false);

    // JSON logs with the operation and environment; metrics of what each worker ran.
    const raw = a2
      .output()
      .split("\n")
      .filter((l) => l.startsWith("{"));
    // Each line names its process once: a key written twice is valid for JSON.parse, but log pipelines differ
    // on which one they keep.
    for (const key of ["service", "role", "host", "pid", "worker"]) {
      expect(raw.filter((l) => l.split(`"${key}":`).length > 2)).toEqual([]);
    }
    const lines = raw.map((l) => JSON.parse(l) as Record<string, unknown>);
    const finished = lines.filter((l) => l.msg === "operation finished");
    expect(finished).toContainEqual(
      expect.objectContaining({
        role: "worker",
        host: "host-a",
        environment: "east",
        kind: "scale",
        status: "succeeded",
        operationId: scaled?.id,
        seconds: expect.any(Number),
      }),
    );
    const metricsA = await (await fetch(a2.metricsUrl)).text();
    expect(metricsA).toMatch(/^portal_operations_started_total\{kind="scale"\} 1$/m);
    expect(metricsA).toMatch(/^portal_operations_finished_total\{kind="destroy",result="succeeded"\} 1$/m);
    expect(metricsA).toMatch(
      /^portal_operation_duration_seconds_count\{kind="scale",result="succeeded"\} 1$/m,
    );
    expect(metricsA).not.toMatch(/kind="create"/);
    const metricsB = await (await fetch(b.metricsUrl)).text();
    expect(metricsB).toMatch(/^portal_operations_finished_total\{kind="create",result="succeeded"\} 1$/m);
    expect(metricsB).toMatch(/^portal_queue_depth\{queue="shared"\} 0$/m);
    expect(metricsB).toMatch(/^portal_environments\{status="destroyed",target="local"\} 2$/m);
    expect(metricsB).toMatch(/^# TYPE portal_drift_checks_total counter$/m);
  }, 600_000);
});
