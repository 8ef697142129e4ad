// The networks migration's rules, in PostgreSQL itself: an operation belongs to exactly one environment or
// network; one active operation per network; one live network per region and per name.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres } from "../src/embedded-postgres.js";
import { applyMigrations, createDbClient, type LocalPostgres } from "../src/index.js";

let server: LocalPostgres;
let tmp: string;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), "db-networks-"));
  server = await startEmbeddedPostgres({ dataDir: path.join(tmp, "pg") });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe("networks", () => {
  it("enforces one owner per operation, one active operation per network, one live network per region", async () => {
    const url = await server.database(`networks_${process.pid}`);
    await applyMigrations(url);
    const db = createDbClient(url, { poolSize: 2 });
    try {
      const network = await db.network.create({
        data: { name: "aws-eu-west-1", region: "eu-west-1", createdBy: "a@b.c", natGateways: "single" },
      });
      const env = await db.environment.create({
        data: {
          name: "demo",
          target: "aws",
          region: "eu-west-1",
          owner: "a@b.c",
          desiredFrontendReplicas: 1,
          desiredRedisReplicas: 1,
          networkId: network.id,
        },
      });
      const op = { kind: "create" as const, requestedConfig: {}, requestedBy: "a@b.c" };
      // Neither, or both: refused by the CHECK constraint.
      await expect(db.operation.create({ data: op })).rejects.toThrow(/operations_environment_or_network/);
      await expect(
        db.operation.create({ data: { ...op, environmentId: env.id, networkId: network.id } }),
      ).rejects.toThrow(/operations_environment_or_network/);
      // One active operation per network, and the network's does not block the environment's.
      await db.operation.create({ data: { ...op, networkId: network.id } });
      await expect(db.operation.create({ data: { ...op, networkId: network.id } })).rejects.toThrow();
      await db.operation.create({ data: { ...op, environmentId: env.id } });
      // One live network per region and per name; a removed one frees both.
      const again = { name: "aws-eu-west-1", region: "eu-west-1", createdBy: "b@c.d" };
      await expect(db.network.create({ data: again })).rejects.toThrow();
      await expect(db.network.create({ data: { ...again, name: "other" } })).rejects.toThrow();
      await db.network.update({ where: { id: network.id }, data: { deletedAt: new Date() } });
      await db.network.create({ data: again });
      expect(await db.network.count({ where: { region: "eu-west-1" } })).toBe(2);
      // A network with environments cannot be deleted outright (they keep their history).
      await expect(db.network.delete({ where: { id: network.id } })).rejects.toThrow();
    } finally {
      await db.$disconnect();
    }
  });
});
