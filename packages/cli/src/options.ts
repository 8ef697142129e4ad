// The create command's options, one row per API field: adding a field the API gained (e.g. a cache or
// database option) is one row here. `--set FIELD=VALUE` sends any other field as is (the portal validates it
// and names an unknown one).
import { InvalidArgumentError } from "commander";

export interface FieldOption {
  /** Commander flags, e.g. "--frontends <n>". */
  flags: string;
  /** The API body field. */
  field: string;
  description: string;
  parse?: (value: string) => unknown;
  /** What a flag without a value (a switch) sends. */
  value?: unknown;
}

export function integer(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError("expected a whole number");
  return Number(value);
}

export const CREATE_OPTIONS: FieldOption[] = [
  {
    flags: "--frontends <n>",
    field: "frontendReplicas",
    description: "frontend replicas (default: the portal's)",
    parse: integer,
  },
  {
    flags: "--redis <n>",
    field: "redisReplicas",
    description: "Redis nodes: 1 writer + read replicas (default: the portal's)",
    parse: integer,
  },
  {
    flags: "--ttl <hours>",
    field: "ttlHours",
    description: "time to live in hours: destroyed after it (members must set one)",
    parse: integer,
  },
  { flags: "--target <target>", field: "target", description: "local or aws (default: local)" },
  { flags: "--region <region>", field: "region", description: "AWS region (target aws)" },
  { flags: "--team <team>", field: "team", description: "one of your teams; the environment belongs to it" },
  { flags: "--allow-reset", field: "allowReset", description: "offer 'reset all votes' in the voting app" },
  // The cache and database tiers (the create form's options).
  { flags: "--cache <kind>", field: "cacheKind", description: "redis (default) or elasticache" },
  { flags: "--cache-node-type <type>", field: "cacheNodeType", description: "ElastiCache node type (aws)" },
  { flags: "--database <kind>", field: "database", description: "none (default) or postgres" },
  { flags: "--db-instance-class <class>", field: "dbInstanceClass", description: "RDS instance class (aws)" },
  {
    flags: "--db-storage <gib>",
    field: "dbStorageGb",
    description: "database storage in GiB",
    parse: integer,
  },
  {
    flags: "--db-backup-days <days>",
    field: "dbBackupRetentionDays",
    description: "database backup retention in days (0: off)",
    parse: integer,
  },
  {
    flags: "--db-deletion-protection",
    field: "dbDeletionProtection",
    description: "protect the database from deletion",
    value: "on",
  },
];

export const SCALE_OPTIONS: FieldOption[] = [
  {
    flags: "--frontends <n>",
    field: "frontendReplicas",
    description: "frontend replicas (default: unchanged)",
    parse: integer,
  },
  {
    flags: "--redis <n>",
    field: "redisReplicas",
    description: "Redis nodes (default: unchanged)",
    parse: integer,
  },
];

/** commander's camel-cased option key of a flags string ("--allow-reset <x>" → "allowReset"). */
export const optionKey = (flags: string) =>
  (flags.split(/[ ,]/).find((f) => f.startsWith("--")) ?? "")
    .slice(2)
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The body fields set by the options in `table`. */
export function fieldsFrom(table: FieldOption[], options: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const o of table) {
    const value = options[optionKey(o.flags)];
    if (value !== undefined) body[o.field] = value === true && o.value !== undefined ? o.value : value;
  }
  return body;
}

/** `--set field=value` pairs: JSON values (numbers, true/false, null, quoted strings) or plain strings. */
export function parseSet(value: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const eq = value.indexOf("=");
  if (eq <= 0) throw new InvalidArgumentError("expected FIELD=VALUE");
  const field = value.slice(0, eq).trim();
  const raw = value.slice(eq + 1);
  let parsed: unknown = raw;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // a plain string
  }
  return { ...previous, [field]: parsed };
}
