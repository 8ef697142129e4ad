// Networks in the portal, against a real PostgreSQL (embedded) and pg-boss, with the real worker: a network is
// created with the first AWS environment of a region (whose create waits for it), shared by the next ones,
// refused a destroy while environments use it (nothing recorded), destroyed once they are gone; network
// operations run through the same queue, events, cancel and reaper. Operations are scripted (no AWS here).
import { randomUUID } from "node:crypto";
import { createDbClient, type PrismaClient } from "@platform/db";
import type PgBoss from "pg-boss";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type CommandContext,
  createEnvironment,
  destroyEnvironment,
  retryOperation,
  scaleEnvironment,
} from "../../src/features/environments/commands";
import {
  cancelNetworkOperation,
  createNetwork,
  destroyNetwork,
  refreshNetwork,
  removeNetwork,
} from "../../src/features/networks/commands";
import { startQueue } from "../../src/server/queue";
import { OperationWorker } from "../../src/server/worker/worker";
import { makePrincipal } from "../../src/shared/access";
import { startTestDatabaseServer, type TestDatabaseServer, waitFor } from "../helpers/database";
import { ScriptedNetworkOperations, ScriptedOperations } from "../helpers/scripted-operations";

let pg: TestDatabaseServer;
const cleanups: Array<() => Promise<unknown> | unknown> = [];

beforeAll(async () => {
  pg = await startTestDatabaseServer();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  await pg?.stop();
});

interface Setup {
  url: string;
  db: PrismaClient;
  boss: PgBoss;
  admin: CommandContext;
  member: CommandContext;
  ops: ScriptedOperations;
  networks: ScriptedNetworkOperations;
}

async function setup(
  script: ConstructorParameters<typeof ScriptedOperations>[0] = { durationMs: 300 },
): Promise<Setup> {
  const url = await pg.fresh();
  const db = createDbClient(url, { poolSize: 6 });
  const boss = await startQueue(url, { role: "sender" });
  cleanups.push(
    () => db.$disconnect(),
    () => boss.stop({ graceful: false, wait: true }),
  );
  const ops = new ScriptedOperations(script);
  const networks = new ScriptedNetworkOperations(ops);
  const workerBoss = await startQueue(url, { role: "worker" });
  const worker = new OperationWorker({
    db,
    boss: workerBoss,
    ops,
    networks,
    concurrency: 3,
    heartbeatSeconds: 1,
    staleAfterSeconds: 3,
    eventsPerOperation: 1000,
    eventRetentionDays: 1,
    reapEverySeconds: 1,
    lostAfterSeconds: 2,
    databaseUrl: url,
  });
  await worker.start();
  cleanups.push(async () => {
    await worker.stop(2000);
    await workerBoss.stop({ graceful: false, wait: true });
  });
  return {
    url,
    db,
    boss,
    ops,
    networks,
    admin: { db, boss, principal: makePrincipal("admin@example.com", "admin") },
    member: { db, boss, principal: makePrincipal("mia@example.com", "member") },
  };
}

const awsEnv = (name: string, region = "eu-west-1") => ({
  name,
  target: "aws" as const,
  region,
  frontendReplicas: 2,
  redisReplicas: 1,
  ttlHours: 24,
  idempotencyKey: randomUUID(),
});

const network = (db: PrismaClient, name: string) =>
  db.network.findFirst({ where: { name, deletedAt: null }, include: { lastOperation: true } });
const envStatus = async (db: PrismaClient, name: string) =>
  (await db.environment.findFirst({ where: { name, deletedAt: null } }))?.status;

describe("networks", () => {
  it("the first AWS environment of a region creates its network, waits for it, and the next ones share it", async () => {
    // Runs take 2 s: the environment's create is claimed while its network's is still running.
    const s = await setup({ durationMs: 2000 });
    const first = await createEnvironment(s.member, awsEnv("team-a"));
    expect(first).toMatchObject({ ok: true });
    const n = await network(s.db, "aws-eu-west-1");
    expect(n).toMatchObject({
      region: "eu-west-1",
      mode: "created",
      natGateways: "single",
      availabilityZones: 2,
    });
    expect(n?.lastOperation).toMatchObject({ kind: "create", requestedBy: "mia@example.com" });
    // Its spec is what the network operations take.
    expect(n?.lastOperation?.requestedConfig).toEqual({
      name: "aws-eu-west-1",
      region: "eu-west-1",
      owner: "mia@example.com",
      natGateways: "single",
      availabilityZones: 2,
    });
    // The environment's spec names the network.
    const envOp = await s.db.operation.findUniqueOrThrow({
      where: { id: (first as { operationId: string }).operationId },
    });
    expect(envOp.requestedConfig).toMatchObject({ aws: { region: "eu-west-1", network: "aws-eu-west-1" } });

    await waitFor("team-a ready", async () => (await envStatus(s.db, "team-a")) === "ready", 20_000);
    const ready = await network(s.db, "aws-eu-west-1");
    expect(ready?.status).toBe("ready");
    expect(ready?.outputs).toMatchObject({ vpcId: "vpc-0a1b2c3d4e5f60718", natGatewayCount: 1 });
    // The environment ran only after the network was up, and said so in its log.
    const upNet = s.networks.calls.find((c) => c.method === "up");
    const upEnv = s.ops.calls.find((c) => c.method === "up" && c.name === "team-a");
    expect(upNet && upEnv && upEnv.at >= upNet.at).toBe(true);
    const notes = await s.db.operationEvent.findMany({ where: { operationId: envOp.id, type: "notice" } });
    expect(notes.map((e) => e.message)).toEqual([
      expect.stringMatching(
        /^waiting for network aws-eu-west-1 \(create (queued|running)\) before this environment$/,
      ),
      "network aws-eu-west-1 is ready",
    ]);

    // A second environment in the region: no new network, no network operation.
    const networkOps = await s.db.operation.count({ where: { networkId: ready?.id } });
    expect(await createEnvironment(s.member, awsEnv("team-b"))).toMatchObject({ ok: true });
    await waitFor("team-b ready", async () => (await envStatus(s.db, "team-b")) === "ready", 20_000);
    expect(await s.db.network.count()).toBe(1);
    expect(await s.db.operation.count({ where: { networkId: ready?.id } })).toBe(networkOps);
    const placed = await s.db.environment.findMany({ where: { name: { in: ["team-a", "team-b"] } } });
    expect(new Set(placed.map((e) => e.networkId))).toEqual(new Set([ready?.id]));
    // A local environment has no network row (its network is the machine's loopback).
    expect(
      await createEnvironment(s.member, { ...awsEnv("lo-c"), target: "local", region: undefined }),
    ).toMatchObject({ ok: true });
    expect((await s.db.environment.findFirst({ where: { name: "lo-c" } }))?.networkId).toBeNull();
  });

  it("refuses to destroy a network while environments use it (nothing recorded), then destroys it", async () => {
    const s = await setup();
    await createEnvironment(s.member, awsEnv("team-a"));
    await waitFor("team-a ready", async () => (await envStatus(s.db, "team-a")) === "ready", 20_000);
    const before = await s.db.operation.count();
    const audits = await s.db.auditEvent.count();
    const refused = await destroyNetwork(s.admin, {
      name: "aws-eu-west-1",
      confirmation: "aws-eu-west-1",
      idempotencyKey: randomUUID(),
    });
    expect(refused).toEqual({
      ok: false,
      code: "refused",
      message: "Network aws-eu-west-1 is used by 1 environment: destroy it first. Nothing was changed.",
    });
    expect(await s.db.operation.count()).toBe(before);
    expect((await network(s.db, "aws-eu-west-1"))?.status).toBe("ready");
    // The refusal is audited, and only that.
    const audit = await s.db.auditEvent.findMany({ where: { id: { gt: BigInt(audits) } } });
    expect(audit.map((a) => [a.action, a.outcome])).toEqual([["destroy-network", "refused"]]);

    // Members cannot operate networks at all.
    expect(
      await refreshNetwork(s.member, { name: "aws-eu-west-1", idempotencyKey: randomUUID() }),
    ).toMatchObject({
      ok: false,
      code: "forbidden",
    });

    await destroyEnvironment(s.member, {
      name: "team-a",
      confirmation: "team-a",
      idempotencyKey: randomUUID(),
    });
    await waitFor("team-a destroyed", async () => (await envStatus(s.db, "team-a")) === "destroyed", 20_000);
    const accepted = await destroyNetwork(s.admin, {
      name: "aws-eu-west-1",
      confirmation: "aws-eu-west-1",
      idempotencyKey: randomUUID(),
    });
    expect(accepted).toMatchObject({ ok: true, network: "aws-eu-west-1" });
    await waitFor(
      "network destroyed",
      async () => (await network(s.db, "aws-eu-west-1"))?.status === "destroyed",
      20_000,
    );
    expect(s.networks.calls.map((c) => c.method)).toEqual(["up", "destroy"]);
    // A new environment in the region creates it again (same record).
    expect(await createEnvironment(s.member, awsEnv("team-d"))).toMatchObject({ ok: true });
    await waitFor("team-d ready", async () => (await envStatus(s.db, "team-d")) === "ready", 20_000);
    expect((await network(s.db, "aws-eu-west-1"))?.status).toBe("ready");
    expect(await s.db.network.count()).toBe(1);
  });

  it("an environment's create fails clearly when its network's create failed; a retry creates the network again", async () => {
    const s = await setup({ durationMs: 200, failFor: new Set(["aws-eu-west-1"]) });
    const created = await createEnvironment(s.member, awsEnv("team-a"));
    await waitFor("team-a failed", async () => (await envStatus(s.db, "team-a")) === "failed", 20_000);
    const envOp = await s.db.operation.findUniqueOrThrow({
      where: { id: (created as { operationId: string }).operationId },
    });
    expect(envOp).toMatchObject({ status: "failed", errorCode: "network-not-ready" });
    expect(envOp.error).toMatch(
      /^network aws-eu-west-1 is failed \(its last create: scripted failure\): retry this operation/,
    );
    expect((await network(s.db, "aws-eu-west-1"))?.status).toBe("failed");
    // The environment never ran (nothing was created for it).
    expect(s.ops.calls.filter((c) => c.name === "team-a")).toEqual([]);

    s.ops.script = { durationMs: 200 };
    expect(await retryOperation(s.member, { name: "team-a", idempotencyKey: randomUUID() })).toMatchObject({
      ok: true,
    });
    await waitFor("team-a ready", async () => (await envStatus(s.db, "team-a")) === "ready", 20_000);
    expect((await network(s.db, "aws-eu-west-1"))?.status).toBe("ready");
    const networkOps = await s.db.operation.findMany({
      where: { network: { name: "aws-eu-west-1" } },
      orderBy: { createdAt: "asc" },
    });
    expect(networkOps.map((o) => [o.kind, o.status])).toEqual([
      ["create", "failed"],
      ["create", "succeeded"],
    ]);
    expect(networkOps[1]?.retryOfId).toBe(networkOps[0]?.id);
  });

  it("a failed refresh of the network does not stop its environments from scaling", async () => {
    const s = await setup({ durationMs: 100 });
    await createEnvironment(s.member, awsEnv("team-a"));
    await waitFor("team-a ready", async () => (await envStatus(s.db, "team-a")) === "ready", 20_000);
    s.ops.script = { durationMs: 100, failFor: new Set(["aws-eu-west-1"]) };
    await refreshNetwork(s.admin, { name: "aws-eu-west-1", idempotencyKey: randomUUID() });
    await waitFor(
      "refresh failed",
      async () => (await network(s.db, "aws-eu-west-1"))?.status === "failed",
      20_000,
    );
    expect(
      await scaleEnvironment(s.member, {
        name: "team-a",
        frontendReplicas: 3,
        redisReplicas: 1,
        idempotencyKey: randomUUID(),
      }),
    ).toMatchObject({ ok: true });
    await waitFor(
      "team-a scaled",
      async () => {
        const env = await s.db.environment.findFirst({
          where: { name: "team-a" },
          include: { lastOperation: true },
        });
        return env?.lastOperation?.status === "succeeded" && env.currentFrontendReplicas === 3;
      },
      20_000,
    );
  });

  it("refuses an environment in a region whose network is being destroyed", async () => {
    const s = await setup({ durationMs: 200, holdFor: new Set() });
    expect(
      await createNetwork(s.admin, {
        region: "us-east-1",
        natGateways: "onePerAz",
        availabilityZones: 3,
        idempotencyKey: randomUUID(),
      }),
    ).toMatchObject({ ok: true, network: "aws-us-east-1" });
    await waitFor(
      "network ready",
      async () => (await network(s.db, "aws-us-east-1"))?.status === "ready",
      20_000,
    );
    expect((await network(s.db, "aws-us-east-1"))?.outputs).toMatchObject({ natGatewayCount: 3 });
    s.ops.script = { durationMs: Number.POSITIVE_INFINITY };
    await destroyNetwork(s.admin, {
      name: "aws-us-east-1",
      confirmation: "aws-us-east-1",
      idempotencyKey: randomUUID(),
    });
    await waitFor(
      "destroying",
      async () => (await network(s.db, "aws-us-east-1"))?.status === "destroying",
      20_000,
    );
    const refused = await createEnvironment(s.member, awsEnv("late", "us-east-1"));
    expect(refused).toEqual({
      ok: false,
      code: "refused",
      message:
        "The network of us-east-1 (aws-us-east-1) is being destroyed: create the environment when that is done.",
    });
    expect(await s.db.environment.count({ where: { name: "late" } })).toBe(0);
    // Cancel the destroy: through the same cancel path as environments' operations.
    expect(
      await cancelNetworkOperation(s.admin, { name: "aws-us-east-1", idempotencyKey: randomUUID() }),
    ).toMatchObject({ ok: true });
    await waitFor(
      "cancelled",
      async () => (await network(s.db, "aws-us-east-1"))?.lastOperation?.status === "cancelled",
      20_000,
    );
    expect((await network(s.db, "aws-us-east-1"))?.status).toBe("failed");
  });

  it("adopts the configured VPC of a region instead of creating one", async () => {
    const s = await setup({ durationMs: 100 });
    const existing = {
      vpcId: "vpc-0123456789abcdef0",
      privateSubnetIds: ["subnet-0123456789abcdef1", "subnet-0123456789abcdef2"],
      publicSubnetIds: ["subnet-0123456789abcdef3", "subnet-0123456789abcdef4"],
    };
    const ctx = {
      ...s.member,
      networks: { natGateways: "single" as const, availabilityZones: 2, adopt: { "eu-central-1": existing } },
    };
    await createEnvironment(ctx, awsEnv("adopter", "eu-central-1"));
    const n = await network(s.db, "aws-eu-central-1");
    expect(n).toMatchObject({ mode: "adopted", natGateways: null, existing });
    expect(n?.lastOperation?.requestedConfig).toEqual({
      name: "aws-eu-central-1",
      region: "eu-central-1",
      owner: "mia@example.com",
      existing,
    });
    await waitFor("adopter ready", async () => (await envStatus(s.db, "adopter")) === "ready", 20_000);
  });

  it("a network's operation left by a dead worker is interrupted and its lock cleared; a lost job is re-sent", async () => {
    const s = await setup({ durationMs: 100 });
    expect(await createEnvironment(s.member, awsEnv("team-r"))).toMatchObject({ ok: true });
    await waitFor("team-r ready", async () => (await envStatus(s.db, "team-r")) === "ready", 30_000);
    const n = await network(s.db, "aws-eu-west-1");
    const spec = n?.lastOperation?.requestedConfig ?? {};
    // A refresh that a worker which then died had been running (no heartbeat for an hour).
    const dead = await s.db.operation.create({
      data: {
        networkId: n?.id,
        kind: "refresh",
        status: "running",
        requestedConfig: spec,
        requestedBy: "admin@example.com",
        startedAt: new Date(Date.now() - 3_600_000),
        heartbeatAt: new Date(Date.now() - 3_600_000),
        workerId: "dead-worker",
      },
    });
    await s.db.network.update({
      where: { id: n?.id },
      data: { lastOperationId: dead.id, status: "updating" },
    });
    await waitFor(
      "the reaper to interrupt it",
      async () => (await s.db.operation.findUnique({ where: { id: dead.id } }))?.status === "interrupted",
      15_000,
    );
    expect((await network(s.db, "aws-eu-west-1"))?.status).toBe("failed");
    await waitFor("its lock cleared", async () =>
      s.networks.calls.some((c) => c.method === "recover" && c.name === "aws-eu-west-1"),
    );
    const notes = await s.db.operationEvent.findMany({ where: { operationId: dead.id } });
    expect(notes.map((e) => e.message)).toContain("stack lock cleared; the operation can be retried");

    // A queued refresh whose job vanished (sent to no queue): the reaper sends it again and it runs.
    const lost = await s.db.operation.create({
      data: {
        networkId: n?.id,
        kind: "refresh",
        status: "queued",
        requestedConfig: spec,
        requestedBy: "admin@example.com",
        createdAt: new Date(Date.now() - 60_000),
        jobId: randomUUID(),
      },
    });
    await s.db.network.update({ where: { id: n?.id }, data: { lastOperationId: lost.id } });
    await waitFor(
      "the lost refresh to run",
      async () => (await s.db.operation.findUnique({ where: { id: lost.id } }))?.status === "succeeded",
      20_000,
    );
    expect((await network(s.db, "aws-eu-west-1"))?.status).toBe("ready");
  });

  it("a removed network's record frees its region; removing one in use is refused", async () => {
    const s = await setup({ durationMs: 100 });
    await createNetwork(s.admin, {
      region: "eu-west-1",
      natGateways: "single",
      availabilityZones: 2,
      idempotencyKey: randomUUID(),
    });
    await waitFor("ready", async () => (await network(s.db, "aws-eu-west-1"))?.status === "ready", 20_000);
    expect(
      await removeNetwork(s.admin, { name: "aws-eu-west-1", idempotencyKey: randomUUID() }),
    ).toMatchObject({
      ok: false,
      message: "Destroy Network aws-eu-west-1 before removing its record.",
    });
    await destroyNetwork(s.admin, {
      name: "aws-eu-west-1",
      confirmation: "aws-eu-west-1",
      idempotencyKey: randomUUID(),
    });
    await waitFor(
      "destroyed",
      async () => (await network(s.db, "aws-eu-west-1"))?.status === "destroyed",
      20_000,
    );
    expect(
      await removeNetwork(s.admin, { name: "aws-eu-west-1", idempotencyKey: randomUUID() }),
    ).toMatchObject({ ok: true });
    expect(await network(s.db, "aws-eu-west-1")).toBeNull();
    expect(await s.db.network.count()).toBe(1); // the row stays for the history
    expect(
      await createNetwork(s.admin, {
        region: "eu-west-1",
        natGateways: "single",
        availabilityZones: 2,
        idempotencyKey: randomUUID(),
      }),
    ).toMatchObject({ ok: true });
    expect(await s.db.network.count()).toBe(2);
  });
});
