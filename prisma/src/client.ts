// The Prisma client shared by the portal's web app and its worker, connected through the pg driver adapter
// (no native query engine).
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client.js";

export * from "./generated/prisma/client.js";

export interface DbClientOptions {
  /** Connections in this process's pool. */
  poolSize?: number;
}

export function createDbClient(databaseUrl: string, options: DbClientOptions = {}): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max: options.poolSize ?? 10,
    idleTimeoutMillis: 30_000,
  });
  return new PrismaClient({ adapter });
}
