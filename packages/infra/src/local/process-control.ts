// Low-level helpers for long-lived local processes: free ports, detached spawning, identity checks and
// stopping. Used by the dynamic provider's runtime (inside the Pulumi provider plugin process) and by the
// operations' orphan reaper, so it imports only node builtins.
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";

export const LOOPBACK = "127.0.0.1";

/**
 * Every local process is started with these two variables: its environment's folder and its resource name.
 * They find the processes in the process table itself, also one no supervisor runs any more (its
 * supervisor died) or whose folder is gone.
 */
export const ENVIRONMENT_DIR_VAR = "PLATFORM_ENVIRONMENT_DIR";
export const PROCESS_NAME_VAR = "PLATFORM_PROCESS_NAME";

export async function freePort(host = LOOPBACK): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** True when something accepts TCP connections on host:port. */
export async function isListening(port: number, host = LOOPBACK, timeoutMs = 500): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = createConnection({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** True when nothing listens on host:port any more (we can bind it ourselves). */
export async function isPortFree(port: number, host = LOOPBACK): Promise<boolean> {
  return await new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** True when a process with this pid exists (also one we may not signal: EPERM). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The kernel's start time of a process (clock ticks since boot, field 22 of /proc/<pid>/stat), which
 * together with the pid identifies one process: a recycled pid gets a different start time.
 * Undefined when the process does not exist. On systems without /proc, "alive" is the best we can say.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: split after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const state = fields[0];
    if (state === "Z" || state === "X") return undefined; // a zombie is dead for our purposes
    return fields[19];
  } catch {
    if (process.platform === "linux") return undefined;
    try {
      process.kill(pid, 0);
      return "alive";
    } catch {
      return undefined;
    }
  }
}

/** True when `pid` is alive and is still the process that was started at `startTime`. */
export function isSameProcess(pid: number | undefined, startTime: string | undefined): boolean {
  if (!pid || !startTime) return false;
  const now = processStartTime(pid);
  return now !== undefined && (now === startTime || now === "alive");
}

export interface SpawnedProcess {
  pid: number;
  startTime: string;
}

/**
 * Starts `command` in its own session (so it outlives the Pulumi run and its group can be signalled as a
 * whole), with stdout and stderr appended to `logFile`.
 */
export function spawnDetached(
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; logFile: string; cwd?: string; uid?: number; gid?: number },
): SpawnedProcess {
  const fd = openSync(options.logFile, "a");
  try {
    const child = spawn(command, args, {
      detached: true,
      stdio: ["ignore", fd, fd],
      env: options.env,
      cwd: options.cwd,
      // Another user (PostgreSQL under root runs as `postgres`); the log file descriptor is ours already.
      uid: options.uid,
      gid: options.gid,
    });
    child.unref();
    if (!child.pid) throw new Error(`could not start ${command}`);
    // Read the start time right away; if the process died already, report that as a start failure.
    const startTime = processStartTime(child.pid) ?? "";
    return { pid: child.pid, startTime };
  } finally {
    closeSync(fd);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal); // the whole session/group: redis-server may have forked children
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/**
 * Stops a process we started: SIGTERM, then SIGKILL after `graceMs`; then waits until `port` is free.
 * Does nothing to a pid that now belongs to another process.
 */
export async function stopProcess(
  pid: number | undefined,
  startTime: string | undefined,
  port?: number,
  graceMs = 5000,
): Promise<void> {
  if (pid && isSameProcess(pid, startTime)) {
    signalGroup(pid, "SIGTERM");
    const deadline = Date.now() + graceMs;
    while (isSameProcess(pid, startTime) && Date.now() < deadline) await sleep(25);
    if (isSameProcess(pid, startTime)) {
      signalGroup(pid, "SIGKILL");
      const killDeadline = Date.now() + 2000;
      while (isSameProcess(pid, startTime) && Date.now() < killDeadline) await sleep(25);
    }
  }
  if (port) {
    const deadline = Date.now() + 5000;
    while (!(await isPortFree(port)) && Date.now() < deadline) await sleep(50);
  }
}

export interface EnvironmentProcess {
  pid: number;
  startTime: string;
  /** Its resource name (`frontend-1`), from PROCESS_NAME_VAR. */
  name: string;
}

/** The pids in the process table (/proc); none where there is no /proc. */
export function listPids(): number[] {
  if (!existsSync("/proc/self/stat")) return [];
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
}

/** A process's `cmdline` or `environ` (NUL-separated lists); undefined when it is gone or not ours to read. */
export function procEntry(pid: number, file: "cmdline" | "environ"): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, "utf8").split("\0");
  } catch {
    return undefined;
  }
}

/**
 * The live processes started for the environment whose folder is `envDir`, found in /proc by their
 * ENVIRONMENT_DIR_VAR (not by their working directory: a person's shell may be in that folder too). Linux
 * only (elsewhere: none); processes of other users are not readable and skipped.
 */
export function processesOfEnvironment(envDir: string): EnvironmentProcess[] {
  const marker = `${ENVIRONMENT_DIR_VAR}=${envDir}`;
  const found: EnvironmentProcess[] = [];
  for (const pid of listPids()) {
    const environ = procEntry(pid, "environ");
    if (!environ?.includes(marker)) continue;
    const startTime = processStartTime(pid);
    if (!startTime) continue;
    const name = environ
      .find((v) => v.startsWith(`${PROCESS_NAME_VAR}=`))
      ?.slice(PROCESS_NAME_VAR.length + 1);
    found.push({ pid, startTime, name: name ?? "process" });
  }
  return found;
}

/** Last lines of a log file, for error messages. */
export function logTail(logFile: string, lines = 15): string {
  try {
    return readFileSync(logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}
