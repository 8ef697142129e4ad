// Driver adapter for Prisma's WebAssembly schema engine (`engine: "js"` in prisma.config.ts), which is what
// lets `prisma migrate` run without downloading the native schema engine. Two fixes over plain adapter-pg 6.x:
// - the schema engine reads catalog columns of types `name` (OID 19) and `"char"` (OID 18), which adapter-pg
//   cannot map (prisma/orm#27403); they are reported as `text` (OID 25), which is what they hold;
// - its shadow database reuses the main one when given a connection string; here it gets its own database,
//   created for the run and dropped afterwards.
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";

const CATALOG_TEXT_TYPES = new Set([18, 19]);
const TEXT_OID = 25;

type QueryResultLike = { fields?: Array<{ dataTypeID: number }> };

function catalogTypesAsText<T>(result: T): T {
  const results = Array.isArray(result) ? result : [result];
  for (const r of results as QueryResultLike[]) {
    for (const field of r?.fields ?? []) {
      if (CATALOG_TEXT_TYPES.has(field.dataTypeID)) field.dataTypeID = TEXT_OID;
    }
  }
  return result;
}

/** A pg client that reports `name` and `"char"` columns as `text`, for both promise and callback calls. */
export class CatalogTextClient extends pg.Client {
  // biome-ignore lint/suspicious/noExplicitAny: pg's query() has many overloads; this wraps all of them.
  override query(...args: any[]): any {
    const last = args[args.length - 1];
    if (typeof last === "function") {
      // biome-ignore lint/suspicious/noExplicitAny: see above
      args[args.length - 1] = (err: Error | null, res: any) => last(err, err ? res : catalogTypesAsText(res));
      // biome-ignore lint/suspicious/noExplicitAny: see above
      return (super.query as any)(...args);
    }
    // biome-ignore lint/suspicious/noExplicitAny: see above
    const out = (super.query as any)(...args);
    return out && typeof out.then === "function" ? out.then(catalogTypesAsText) : out;
  }
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/** The adapter factory the Prisma CLI uses for migrations against `url`. */
export function createMigrationAdapter(url: string): PrismaPg {
  const pool = new pg.Pool({
    connectionString: url,
    Client: CatalogTextClient,
    max: 4,
    allowExitOnIdle: true,
    idleTimeoutMillis: 200,
  });
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  adapter.connectToShadowDb = async () => {
    const shadowName = `prisma_shadow_${globalThis.crypto.randomUUID().replaceAll("-", "")}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${shadowName}"`);
    await admin.end();
    const shadowPool = new pg.Pool({
      connectionString: withDatabase(url, shadowName),
      Client: CatalogTextClient,
      max: 4,
      allowExitOnIdle: true,
      idleTimeoutMillis: 200,
    });
    const shadow = await new PrismaPg(shadowPool, { disposeExternalPool: true }).connect();
    const dispose = shadow.dispose.bind(shadow);
    shadow.dispose = async () => {
      await dispose();
      const dropper = new pg.Client({ connectionString: url });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS "${shadowName}" WITH (FORCE)`);
      await dropper.end();
    };
    return shadow;
  };
  return adapter;
}
