// One Prisma client per process (kept on globalThis so Next's dev reloads do not open new pools).
import { createDbClient, type PrismaClient } from "@platform/db/client";
import { requireDatabaseUrl } from "./env";

const holder = globalThis as unknown as { __portalDb?: PrismaClient };

export function db(): PrismaClient {
  holder.__portalDb ??= createDbClient(requireDatabaseUrl());
  return holder.__portalDb;
}
