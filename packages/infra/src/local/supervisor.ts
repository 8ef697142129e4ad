// The local target's process supervisor: one supervisord (http://supervisord.org, Debian's `supervisor`)
// per environment. It starts every process of the environment as a "program", restarts one that exits, as
// ECS replaces a stopped task, and reports each state change to an event listener that writes them to a
// file the portal reads into the operation history. Used by the dynamic provider's runtime (inside the
// Pulumi provider plugin process) and by the orphan reaper, so it imports only node builtins.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { RpcFault, RpcUnreachable, type RpcValue, rpc } from "./supervisor-rpc";

/** Where an environment's supervisor keeps its files. */
export interface SupervisorPaths {
  envDir: string;
  /** `<envDir>/supervisor`: supervisord.conf and `programs/`. */
  dir: string;
  config: string;
  /** One `<name>.conf` per supervised service; the services' resources own them. */
  programsDir: string;
  socket: string;
  pidFile: string;
  log: string;
  /** Process state changes, one JSON object a line (see supervisor-events.ts). */
  eventsFile: string;
}

/** A unix socket path is limited to 107 bytes: long data folders get their sockets in the temp folder. */
export function socketPathFor(envDir: string, file: string): string {
  const preferred = path.join(envDir, "run", file);
  if (Buffer.byteLength(preferred) <= 100) return preferred;
  const hash = createHash("sha256").update(envDir).digest("hex").slice(0, 12);
  return path.join(os.tmpdir(), `platform-${hash}`, file);
}

export function supervisorPaths(envDir: string): SupervisorPaths {
  const dir = path.join(envDir, "supervisor");
  return {
    envDir,
    dir,
    config: path.join(dir, "supervisord.conf"),
    programsDir: path.join(dir, "programs"),
    socket: socketPathFor(envDir, "supervisor.sock"),
    pidFile: path.join(envDir, "run", "supervisord.pid"),
    log: path.join(envDir, "logs", "supervisord.log"),
    eventsFile: path.join(envDir, "run", "process-events.jsonl"),
  };
}

/** supervisord's config files interpolate `%(name)s`: a literal percent sign is written `%%`. */
const literal = (s: string) => s.replaceAll("%", "%%");

export interface SupervisordOptions {
  /** node binary and the compiled supervisor-events.js, which records state changes to `eventsFile`. */
  node: string;
  eventsListener: string;
}

export function renderSupervisordConfig(p: SupervisorPaths, o: SupervisordOptions): string {
  return `; Written by the local target's provider. One supervisord per environment; its services are in programs/.
[unix_http_server]
file=${literal(p.socket)}
chmod=0700

[supervisord]
nodaemon=true
logfile=${literal(p.log)}
logfile_maxbytes=5MB
logfile_backups=2
pidfile=${literal(p.pidFile)}
childlogdir=${literal(path.join(p.envDir, "logs"))}
directory=${literal(p.envDir)}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://${literal(p.socket)}

[eventlistener:process-events]
command=${literal(o.node)} ${literal(o.eventsListener)} ${literal(p.eventsFile)}
events=PROCESS_STATE
buffer_size=1000
autorestart=true
stdout_logfile=NONE
stderr_logfile=${literal(path.join(p.envDir, "logs", "process-events.log"))}
environment=PLATFORM_PROCESS_NAME="process-events"

[include]
files=${literal(path.join(p.programsDir, "*.conf"))}
`;
}

export interface ProgramSpec {
  /** The service's resource name, e.g. `frontend-0`; also the program name. */
  name: string;
  /** An executable script (it `exec`s the real program, so supervisord's pid is the program's). */
  script: string;
  logFile: string;
  /** Seconds a start must last to count as running (and how long supervisord waits before it says so). */
  startSeconds?: number;
  /** Run as this user (supervisord runs as root): PostgreSQL refuses to run as root. */
  user?: string;
  /** How to stop it, when not TERM to its process group with 5 s before KILL. */
  stop?: { signal: string; asGroup: boolean; waitSeconds: number };
}

export function renderProgram(p: SupervisorPaths, s: ProgramSpec): string {
  return `[program:${s.name}]
command=/bin/sh ${literal(s.script)}
directory=${literal(p.envDir)}
autostart=true
autorestart=true
startsecs=${s.startSeconds ?? 1}
startretries=3
stopsignal=${s.stop?.signal ?? "TERM"}
stopwaitsecs=${s.stop?.waitSeconds ?? 5}
stopasgroup=${s.stop?.asGroup === false ? "false" : "true"}
killasgroup=true
${s.user ? `user=${s.user}\n` : ""}redirect_stderr=true
stdout_logfile=${literal(s.logFile)}
stdout_logfile_maxbytes=10MB
stdout_logfile_backups=2
environment=PLATFORM_PROCESS_NAME="${s.name}"
`;
}

/** Writes a file through a temporary one and a rename, so readers never see half of it. */
export function writeAtomic(file: string, content: string, mode = 0o600): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode });
  renameSync(tmp, file);
}

/** How to reach an environment's supervisord: its files and socket. */
export interface Ctl {
  paths: SupervisorPaths;
}

const call = (ctl: Ctl, method: string, params: (string | number | boolean)[] = [], timeoutMs?: number) =>
  rpc(ctl.paths.socket, method, params, timeoutMs);

/** Runs `call`, treating the named faults (e.g. ALREADY_STARTED) as done. */
async function tolerate(kinds: string[], run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (err) {
    if (!(err instanceof RpcFault && kinds.includes(err.kind))) throw err;
  }
}

export type ProgramState =
  | "STOPPED"
  | "STARTING"
  | "RUNNING"
  | "BACKOFF"
  | "STOPPING"
  | "EXITED"
  | "FATAL"
  | "UNKNOWN"
  /** supervisord does not know the program. */
  | "ABSENT"
  /** supervisord does not answer. */
  | "UNREACHABLE";

export interface ProgramStatus {
  state: ProgramState;
  pid?: number;
  /** supervisord's description, e.g. "Exited too quickly (process log may have details)". */
  detail: string;
}

/** States in which the program is there and supervisord keeps it (or brings it back) up. */
export const SUPERVISED_STATES: ReadonlySet<ProgramState> = new Set(["RUNNING", "STARTING", "BACKOFF"]);

/** The program's state as supervisord reports it (supervisor.getProcessInfo). */
export async function programStatus(ctl: Ctl, name: string): Promise<ProgramStatus> {
  try {
    const info = (await call(ctl, "supervisor.getProcessInfo", [name], 10_000)) as Record<string, RpcValue>;
    return {
      state: String(info.statename) as ProgramState,
      pid: Number(info.pid) || undefined,
      detail: String(info.description ?? ""),
    };
  } catch (err) {
    if (err instanceof RpcFault && err.kind === "BAD_NAME") return { state: "ABSENT", detail: err.fault };
    if (err instanceof RpcUnreachable || err instanceof RpcFault) {
      return { state: "UNREACHABLE", detail: err.message };
    }
    throw err;
  }
}

/** True once supervisord answers on its socket and is running (not starting up or shutting down). */
export async function supervisorAnswers(ctl: Ctl): Promise<boolean> {
  try {
    const state = (await call(ctl, "supervisor.getState", [], 5000)) as Record<string, RpcValue>;
    return state.statename === "RUNNING";
  } catch {
    return false;
  }
}

/**
 * Adds (or re-adds after a config change) the program whose conf file is in programs/, and makes sure it
 * runs: what `supervisorctl update <name>` and `start <name>` do. supervisord starts a newly added program
 * by itself (autostart).
 */
export async function addProgram(ctl: Ctl, spec: ProgramSpec): Promise<void> {
  writeAtomic(path.join(ctl.paths.programsDir, `${spec.name}.conf`), renderProgram(ctl.paths, spec));
  const [changes] = (await call(ctl, "supervisor.reloadConfig")) as string[][][];
  const [added = [], changed = []] = changes ?? [];
  if (changed.includes(spec.name)) {
    await tolerate(["BAD_NAME", "NOT_RUNNING"], () =>
      call(ctl, "supervisor.stopProcessGroup", [spec.name, true]),
    );
    await tolerate(["BAD_NAME"], () => call(ctl, "supervisor.removeProcessGroup", [spec.name]));
  }
  if (added.includes(spec.name) || changed.includes(spec.name)) {
    await tolerate(["ALREADY_ADDED"], () => call(ctl, "supervisor.addProcessGroup", [spec.name]));
  }
  const status = await programStatus(ctl, spec.name);
  if (status.state === "UNREACHABLE") throw new Error(`the supervisor does not answer: ${status.detail}`);
  if (!SUPERVISED_STATES.has(status.state)) {
    // Known with the same config but stopped or given up (FATAL): start it again, without waiting (the
    // caller's readiness check reports a failed start, with the log).
    await tolerate(["ALREADY_STARTED"], () => call(ctl, "supervisor.startProcess", [spec.name, false]));
  }
}

/** Restarts a program (stop, waiting until it stopped; then start without waiting). */
export async function restartProgram(ctl: Ctl, name: string): Promise<void> {
  await tolerate(["NOT_RUNNING"], () => call(ctl, "supervisor.stopProcess", [name, true]));
  await tolerate(["ALREADY_STARTED"], () => call(ctl, "supervisor.startProcess", [name, false]));
}

/** Sends a signal (e.g. "USR2") to a running program. */
export async function signalProgram(ctl: Ctl, name: string, signal: string): Promise<void> {
  await call(ctl, "supervisor.signalProcess", [name, signal]);
}

/** Stops a program (TERM to its process group, KILL after stopwaitsecs) and forgets it. */
export async function removeProgram(ctl: Ctl, name: string): Promise<void> {
  await tolerate(["BAD_NAME", "NOT_RUNNING"], () => call(ctl, "supervisor.stopProcess", [name, true]));
  await tolerate(["BAD_NAME"], () => call(ctl, "supervisor.removeProcessGroup", [name]));
  rmSync(path.join(ctl.paths.programsDir, `${name}.conf`), { force: true });
}

/** Names of the programs whose conf files are in programs/. */
export function programFiles(p: SupervisorPaths): string[] {
  try {
    return readdirSync(p.programsDir)
      .filter((f) => f.endsWith(".conf"))
      .map((f) => f.slice(0, -".conf".length));
  } catch {
    return [];
  }
}
