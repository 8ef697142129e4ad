// The environment's tier options (cache and database) between the form and the operations. The option lists,
// bounds, defaults and names come from @platform/infra's spec (`src/spec.ts` there), the one schema that carries
// them to the program: the form reads its fields from there, and what it produces is the spec's `cache` and
// `database` objects themselves, stored on the environment (`options`) and sent unchanged with every operation.
import {
  CACHE_KIND_LABELS,
  CACHE_KIND_LOCAL_MEANING,
  CACHE_KINDS,
  CACHE_NODE_TYPES,
  type CacheKind,
  type CacheOptions,
  cacheOptionsSchema,
  DATABASE_BACKUP_RETENTION_DAYS,
  DATABASE_INSTANCE_CLASSES,
  DATABASE_STORAGE_GB,
  type DatabaseOptions,
  databaseOptionsSchema,
} from "@platform/infra/spec";
import { z } from "zod";

export type { CacheKind };
export {
  CACHE_KIND_LABELS,
  CACHE_KIND_LOCAL_MEANING,
  CACHE_KINDS,
  CACHE_NODE_TYPES,
  DATABASE_BACKUP_RETENTION_DAYS,
  DATABASE_INSTANCE_CLASSES,
  DATABASE_STORAGE_GB,
};

/** What an environment stores and every operation sends: the spec's tier options ({} = the defaults). */
export interface TierOptions {
  cache?: CacheOptions;
  database?: DatabaseOptions;
}

const emptyToUndefined = (v: unknown) => (v === "" || v === null ? undefined : v);

/** The form's fields (strings from FormData); field names are the form controls' names. */
export const tierOptionFields = {
  cacheKind: z.enum(CACHE_KINDS, { message: "Choose a cache." }).default("redis"),
  cacheNodeType: z.preprocess(
    emptyToUndefined,
    z.enum(CACHE_NODE_TYPES, { message: "Choose one of the offered node types." }).optional(),
  ),
  database: z.enum(["none", "postgres"], { message: "Choose a database." }).default("none"),
  dbInstanceClass: z.preprocess(
    emptyToUndefined,
    z.enum(DATABASE_INSTANCE_CLASSES, { message: "Choose one of the offered instance classes." }).optional(),
  ),
  dbStorageGb: z.preprocess(
    emptyToUndefined,
    z.coerce
      .number({ message: "Storage must be a number of GiB." })
      .int("Storage must be a whole number of GiB.")
      .min(DATABASE_STORAGE_GB.min, `Storage: at least ${DATABASE_STORAGE_GB.min} GiB.`)
      .max(DATABASE_STORAGE_GB.max, `Storage: at most ${DATABASE_STORAGE_GB.max} GiB.`)
      .optional(),
  ),
  dbBackupRetentionDays: z.preprocess(
    emptyToUndefined,
    z.coerce
      .number({ message: "Backup retention must be a number of days." })
      .int("Backup retention must be a whole number of days.")
      .min(DATABASE_BACKUP_RETENTION_DAYS.min, "Backup retention: 0 (off) to 35 days.")
      .max(DATABASE_BACKUP_RETENTION_DAYS.max, "Backup retention: 0 (off) to 35 days.")
      .optional(),
  ),
  // A checkbox: present ("on") when ticked, absent otherwise.
  dbDeletionProtection: z.preprocess(emptyToUndefined, z.literal("on").optional()),
};

export type TierFields = {
  [K in keyof typeof tierOptionFields]?: z.output<(typeof tierOptionFields)[K]>;
};

/** The spec's options from the parsed form fields (absent: the defaults), checked by the spec's own schemas. */
export function tierOptionsOf(f: TierFields): TierOptions {
  const options: TierOptions = {};
  if (f.cacheKind && f.cacheKind !== "redis") {
    options.cache = cacheOptionsSchema.parse({ kind: f.cacheKind, nodeType: f.cacheNodeType });
  }
  if (f.database === "postgres") {
    options.database = databaseOptionsSchema.parse({
      engine: "postgres",
      instanceClass: f.dbInstanceClass,
      storageGb: f.dbStorageGb,
      backupRetentionDays: f.dbBackupRetentionDays,
      deletionProtection: f.dbDeletionProtection === "on",
    });
  }
  return options;
}

const storedSchema = z.object({
  cache: cacheOptionsSchema.optional().catch(undefined),
  database: databaseOptionsSchema.optional().catch(undefined),
});

/** An environment row's `options` column, read defensively (a row from before the column holds {}). */
export function storedTierOptions(raw: unknown): TierOptions {
  const parsed = storedSchema.safeParse(raw ?? {});
  if (!parsed.success) return {};
  const out: TierOptions = {};
  if (parsed.data.cache) out.cache = parsed.data.cache;
  if (parsed.data.database) out.database = parsed.data.database;
  return out;
}

export const cacheKindOf = (o: TierOptions): CacheKind => o.cache?.kind ?? "redis";

/** What the cache slider counts for a cache kind: Redis tasks on Fargate, nodes of an ElastiCache group. */
export function cacheReplicaLabel(kind: CacheKind): { label: string; hint: string } {
  return kind === "elasticache"
    ? { label: "Cache nodes", hint: "1 primary + replicas; with replicas it fails over automatically" }
    : { label: "Redis replicas", hint: "1 writer + read replicas" };
}

/** One line per option for lists and the detail page, e.g. "ElastiCache (cache.t4g.micro)". */
export function describeTierOptions(
  o: TierOptions,
  target: "local" | "aws",
): { cache: string; database: string } {
  const kind = cacheKindOf(o);
  const cache =
    kind === "elasticache" && target === "aws"
      ? `${CACHE_KIND_LABELS.elasticache} (${o.cache?.nodeType ?? "cache.t4g.micro"})`
      : CACHE_KIND_LABELS[kind];
  const db = o.database;
  const database = !db
    ? "None"
    : target === "aws"
      ? `PostgreSQL (${db.instanceClass ?? "db.t4g.micro"}, ${db.storageGb ?? DATABASE_STORAGE_GB.default} GiB, backups ${db.backupRetentionDays ?? DATABASE_BACKUP_RETENTION_DAYS.default} d${db.deletionProtection ? ", deletion protection" : ""})`
      : "PostgreSQL";
  return { cache, database };
}
