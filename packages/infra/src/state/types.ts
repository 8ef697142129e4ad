/** A DIY-backend lock, as the CLI writes it: `{ pid, username, hostname, timestamp }`. */
export interface StackLock {
  /** Key (postgres) or path (file) of the lock, to delete it. */
  key: string;
  pid: number;
  username: string;
  hostname: string;
  timestamp: string;
}

/** The parts of a stack checkpoint the recovery needs. */
export interface CheckpointSummary {
  /**
   * For the local target's resources, from their outputs: `name` (the service or `supervisor`), and the
   * supervisor's `pid` and `startTime`, to tell its processes from orphans.
   */
  resources: {
    urn: string;
    type: string;
    id?: string;
    name?: string;
    pid?: number;
    startTime?: string;
  }[];
  pendingOperations: { type: string; urn: string }[];
  /** The stack's outputs (its root resource's outputs), as the last run recorded them. */
  stackOutputs?: Record<string, unknown>;
}

/**
 * Direct, read-mostly access to the DIY state backend's storage, for what the CLI does not offer:
 * finding and clearing the lock of a killed run, and checking pending operations cheaply before each run.
 */
export interface StateStore {
  /** Throws when the backend cannot be reached. */
  ping(): Promise<void>;
  listLocks(project: string, stack: string): Promise<StackLock[]>;
  deleteLock(key: string): Promise<void>;
  /** Undefined when the stack has no checkpoint (it does not exist). */
  readCheckpoint(project: string, stack: string): Promise<CheckpointSummary | undefined>;
  /** The names of the project's stacks (those with a checkpoint). */
  listStacks(project: string): Promise<string[]>;
  close(): Promise<void>;
}

interface RawCheckpoint {
  checkpoint?: {
    latest?: {
      resources?: {
        urn: string;
        type: string;
        id?: string;
        outputs?: {
          pid?: unknown;
          name?: unknown;
          startTime?: unknown;
        } & Record<string, unknown>;
      }[];
      pending_operations?: { type: string; resource: { urn: string } }[];
    };
  };
}

export function summarizeCheckpoint(json: string): CheckpointSummary {
  const raw = JSON.parse(json) as RawCheckpoint;
  const latest = raw.checkpoint?.latest;
  const root = (latest?.resources ?? []).find((r) => r.type === "pulumi:pulumi:Stack");
  return {
    ...(root?.outputs ? { stackOutputs: root.outputs } : {}),
    resources: (latest?.resources ?? []).map((r) => ({
      urn: r.urn,
      type: r.type,
      id: r.id,
      ...(typeof r.outputs?.name === "string" ? { name: r.outputs.name } : {}),
      ...(typeof r.outputs?.pid === "number" ? { pid: r.outputs.pid } : {}),
      ...(typeof r.outputs?.startTime === "string" ? { startTime: r.outputs.startTime } : {}),
    })),
    pendingOperations: (latest?.pending_operations ?? []).map((p) => ({ type: p.type, urn: p.resource.urn })),
  };
}

/** Stack names from checkpoint keys or file names (`<stack>.json` or `.json.gz`; backups `.bak` are skipped). */
export function stackNames(keys: string[]): string[] {
  const names = new Set<string>();
  for (const key of keys) {
    const m = /([^/]+)\.json(\.gz)?$/.exec(key);
    if (m?.[1]) names.add(m[1]);
  }
  return [...names].sort();
}
