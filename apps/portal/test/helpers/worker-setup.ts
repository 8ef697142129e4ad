// A fresh database with a sender queue, and in-process workers on it, for the queue and worker tests.
import { randomUUID } from "node:crypto";
import { createDbClient, type PrismaClient } from "@platform/db";
import type PgBoss from "pg-boss";
import { type CommandContext, createEnvironment } from "../../src/features/environments/commands";
import { startQueue } from "../../src/server/queue";
import { OperationWorker, type WorkerOptions } from "../../src/server/worker/worker";
import { makePrincipal } from "../../src/shared/access";
import { type TestDatabaseServer, waitFor } from "./database";
import type { ScriptedOperations } from "./scripted-operations";

export interface Setup {
  url: string;
  db: PrismaClient;
  boss: PgBoss;
  ctx: CommandContext;
}

export type Cleanups = Array<() => Promise<unknown> | unknown>;

export async function setup(pg: TestDatabaseServer, cleanups: Cleanups): Promise<Setup> {
  const url = await pg.fresh();
  const db = createDbClient(url, { poolSize: 6 });
  const boss = await startQueue(url, { role: "sender" });
  cleanups.push(
    () => db.$disconnect(),
    () => boss.stop({ graceful: false, wait: true }),
  );
  return { url, db, boss, ctx: { db, boss, principal: makePrincipal("tester@example.com", "admin") } };
}

export async function startWorker(
  s: Setup,
  ops: ScriptedOperations,
  cleanups: Cleanups,
  extra: Partial<WorkerOptions> = {},
): Promise<OperationWorker> {
  const boss = await startQueue(s.url, { role: "worker", host: extra.host });
  const worker = new OperationWorker({
    db: s.db,
    boss,
    ops,
    concurrency: 2,
    heartbeatSeconds: 1,
    staleAfterSeconds: 3,
    eventsPerOperation: 1000,
    eventRetentionDays: 1,
    reapEverySeconds: 1,
    databaseUrl: s.url,
    ...extra,
  });
  await worker.start();
  cleanups.push(async () => {
    await worker.stop(2000);
    await boss.stop({ graceful: false, wait: true });
  });
  return worker;
}

export const create = (ctx: CommandContext, name: string, extra: { ttlHours?: number } = {}) =>
  createEnvironment(ctx, {
    name,
    target: "local",
    frontendReplicas: 2,
    redisReplicas: 1,
    idempotencyKey: randomUUID(),
    ...extra,
  });

export const envOf = (db: PrismaClient, name: string) =>
  db.environment.findFirstOrThrow({ where: { name, deletedAt: null }, include: { lastOperation: true } });

export const finished = (db: PrismaClient, name: string, timeoutMs = 15_000) =>
  waitFor(
    `${name}'s last operation to finish`,
    async () => {
      const env = await envOf(db, name);
      const s = env.lastOperation?.status;
      return s && s !== "queued" && s !== "running" ? await envOf(db, name) : null;
    },
    timeoutMs,
  );

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
