// The start command's database: DATABASE_URL when set, else an embedded PostgreSQL in DATA_DIR/postgres.
// A start command killed with SIGKILL leaves its embedded PostgreSQL running; the next start finds it (by
// its postmaster.pid), uses it, and stops it when it stops itself, as if it had started it.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { type LocalPostgres, startEmbeddedPostgres } from "@platform/db";
import { secretFile } from "./auth/secret-file";
import type { PortalConfig } from "./env";
import type { Logger } from "./logger";

export interface PortalDatabase {
  url: string;
  /** The embedded PostgreSQL (started or adopted here), not DATABASE_URL. */
  embedded: boolean;
  /** Stops the embedded PostgreSQL (started or adopted by this process); nothing for DATABASE_URL. */
  stop(): Promise<void>;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** A PostgreSQL still running in `dataDir` (its start command was killed): its pid and port. */
export function runningPostmaster(dataDir: string): { pid: number; port: number } | null {
  const file = path.join(dataDir, "postmaster.pid");
  if (!existsSync(file)) return null;
  const [pid, , , port] = readFileSync(file, "utf8").split("\n");
  const p = Number(pid);
  if (!Number.isInteger(p) || p <= 0 || !alive(p)) return null; // stale file: PostgreSQL replaces it at start
  return { pid: p, port: Number(port) };
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/**
 * Stops a postmaster this process did not start (so cannot wait for as a child): fast shutdown (SIGINT),
 * then immediate shutdown (SIGQUIT) if it is still there after 15 s.
 */
export async function stopPostmaster(pid: number, logger: Logger): Promise<void> {
  try {
    process.kill(pid, "SIGINT");
  } catch {
    return; // already gone
  }
  if (await waitGone(pid, 15_000)) return;
  logger.warn({ pid }, "embedded PostgreSQL did not stop within 15 s: immediate shutdown");
  try {
    process.kill(pid, "SIGQUIT");
  } catch {
    return;
  }
  await waitGone(pid, 5_000);
}

export async function startPortalDatabase(config: PortalConfig, logger: Logger): Promise<PortalDatabase> {
  if (config.DATABASE_URL) return { url: config.DATABASE_URL, embedded: false, stop: async () => {} };
  const pgDir = path.join(config.DATA_DIR, "postgres");
  mkdirSync(config.DATA_DIR, { recursive: true });
  // The superuser's password: generated once per data folder (mode 0600).
  const password = secretFile(path.join(config.DATA_DIR, "postgres-password"));
  const orphan = runningPostmaster(pgDir);
  if (orphan) {
    // Left running by a start command killed with SIGKILL: use it rather than fail on its lock file, and
    // stop it on the way out like our own.
    logger.info(
      { pid: orphan.pid, port: orphan.port, dataDir: pgDir },
      "reusing the embedded PostgreSQL left running by a previous start",
    );
    return {
      url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${orphan.port}/portal`,
      embedded: true,
      stop: () => stopPostmaster(orphan.pid, logger),
    };
  }
  const embedded: LocalPostgres = await startEmbeddedPostgres({
    dataDir: pgDir,
    password,
    // Data folders made before passwords were generated used this one.
    legacyPasswords: ["postgres"],
    onLog: (line) => {
      if (process.env.PORTAL_DEBUG) logger.info({ postgres: line.trimEnd() }, "postgres");
    },
  });
  const url = await embedded.database("portal");
  logger.info({ port: embedded.port, dataDir: pgDir }, "embedded PostgreSQL started");
  return {
    url,
    embedded: true,
    stop: async () => {
      const running = runningPostmaster(pgDir);
      await embedded.stop();
      if (running && !(await waitGone(running.pid, 10_000))) await stopPostmaster(running.pid, logger);
    },
  };
}
