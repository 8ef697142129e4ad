// What the local target's dynamic provider does, as a plain module: the serialized provider (provider.ts)
// `require`s this file by absolute path inside the Pulumi provider plugin process, so the logic lives in
// normal compiled code instead of in serialized closures.
//
// Two kinds of resources:
// - `supervisor`: the environment's supervisord. Its pid identifies it (nothing restarts it but Pulumi).
// - services (`redis`, `app`, `tcp-balancer`, `http-balancer`): a program of that supervisord, on a fixed
//   port. The resource is the supervised service, not a process: when the supervisor restarts a crashed
//   process, the pid changes and the resource does not (no pid in its state), so refresh and up agree with
//   reality. A service is gone when its supervisor no longer runs it (given up, stopped, or no supervisor).
import { chownSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import path from "node:path";
import { type Backend, balancerState, renderHaproxyConfig } from "./haproxy";
import { ensureDatabase, initialiseCluster, type RunAs, runAsFor, serverArgs } from "./postgres-server";
import {
  ENVIRONMENT_DIR_VAR,
  freePort,
  isListening,
  isPortFree,
  isSameProcess,
  LOOPBACK,
  logTail,
  PROCESS_NAME_VAR,
  processesOfEnvironment,
  sleep,
  spawnDetached,
  stopProcess,
} from "./process-control";
import {
  addProgram,
  type Ctl,
  programStatus,
  removeProgram,
  renderSupervisordConfig,
  restartProgram,
  SUPERVISED_STATES,
  signalProgram,
  socketPathFor,
  supervisorAnswers,
  supervisorPaths,
  writeAtomic,
} from "./supervisor";

export type ServiceKind = "redis" | "app" | "tcp-balancer" | "http-balancer" | "postgres";
export type LocalProcessKind = "supervisor" | ServiceKind;

/** How services reach their supervisor: its config file (include folder) and its socket. */
export interface SupervisorControl {
  config: string;
  socket: string;
}

/** Inputs of every local resource; which fields apply depends on `kind`. */
export interface LocalProcessInputs {
  kind: LocalProcessKind;
  /** Resource name inside the environment, e.g. `frontend-1`; names its program, log and config files. */
  name: string;
  /** `<dataDir>/<environment>`: configs, logs and runtime files of this environment's processes. */
  envDir: string;
  /** supervisor: the binaries, and node + the compiled event listener it runs. */
  supervisord?: string;
  node?: string;
  eventsListener?: string;
  /** services: the supervisor's outputs (also what orders them after it). */
  supervisor?: SupervisorControl;
  /** redis: the `redis-server` binary, the password, and the primary to replicate (read replicas). */
  redisServer?: string;
  password?: string;
  replicaOf?: { host: string; port: number };
  /** redis: `aof` keeps the data across restarts (appendonly, fsync every second), as a managed cache does. */
  persistence?: "none" | "aof";
  /** postgres: the folder of the PostgreSQL binaries (initdb, postgres); `password` is the user's password. */
  postgresBin?: string;
  /** redis writer: node and the compiled redis-seed.js it runs before it starts (see redis-seed.ts). */
  seedScript?: string;
  /** app: the voting app's entry point and its environment. */
  main?: string;
  env?: Record<string, string>;
  /** balancers: the haproxy binary, the backends, the liveness path (http), the writer-only check (tcp). */
  haproxy?: string;
  backends?: Backend[];
  healthPath?: string;
  redisRole?: "master";
}

export interface LocalProcessOutputs extends LocalProcessInputs {
  host?: string;
  port?: number;
  /** host:port */
  endpoint?: string;
  url?: string;
  logFile: string;
  /** balancers: the config version last applied. */
  configVersion?: number;
  /** supervisor only: supervisord's pid and /proc start time (a recycled pid does not match). */
  pid?: number;
  startTime?: string;
  /** supervisor only: what its services need to reach it. */
  control?: SupervisorControl;
}

/** Inputs whose change restarts or reconfigures a service. `supervisor` holds paths derived from envDir. */
const SERVICE_INPUTS: (keyof LocalProcessInputs)[] = [
  "redisServer",
  "password",
  "replicaOf",
  "persistence",
  "postgresBin",
  "seedScript",
  "main",
  "env",
  "haproxy",
  "backends",
  "healthPath",
  "redisRole",
];
const IDENTITY_INPUTS: (keyof LocalProcessInputs)[] = ["kind", "name", "envDir"];
const SUPERVISOR_INPUTS: (keyof LocalProcessInputs)[] = ["supervisord", "node", "eventsListener"];

const READY_TIMEOUT_MS = 20_000;

/** The provider protocol's struct cannot carry `undefined`: drop such fields. */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value));

const dirs = (envDir: string) => ({
  run: path.join(envDir, "run"),
  logs: path.join(envDir, "logs"),
  conf: path.join(envDir, "conf"),
});

const isBalancer = (kind: LocalProcessKind) => kind === "tcp-balancer" || kind === "http-balancer";

/**
 * A small, explicit environment for supervisord (its programs inherit it): never leak the CLI's
 * (PULUMI_CONFIG_PASSPHRASE, backend URL). Plus the two markers that find the environment's processes in the
 * process table (recovery, destroy); each program's start script sets its own name.
 */
function baseEnv(envDir: string, name: string): NodeJS.ProcessEnv {
  const keep = ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"];
  return {
    ...Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]])),
    [ENVIRONMENT_DIR_VAR]: envDir,
    [PROCESS_NAME_VAR]: name,
  };
}

/** A POSIX shell word. */
const sh = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

function httpStatus(port: number, urlPath: string, timeoutMs = 1000): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: LOOPBACK, port, path: urlPath, timeout: timeoutMs });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(undefined));
    req.end();
  });
}

/** The supervisor's control of a service (paths derived from its folder, so also known during a preview). */
function ctlOf(p: Pick<LocalProcessInputs, "envDir" | "supervisor">): Ctl {
  return { paths: supervisorPaths(p.envDir) };
}

const statsSocket = (envDir: string, name: string) => socketPathFor(envDir, `${name}.haproxy.sock`);
const scriptFile = (envDir: string, name: string) => path.join(dirs(envDir).conf, `${name}.sh`);

interface Launch {
  /** The start script's last line (`exec …`), and what runs before it. */
  exec: string[];
  before?: string[];
  env?: Record<string, string>;
  /** Run as this user (PostgreSQL refuses root); its start script is then that user's. */
  runAs?: RunAs & { user: string };
  /** How the supervisor stops it, when not TERM to its whole process group. */
  stop?: { signal: string; asGroup: boolean; waitSeconds: number };
  /** Resolves when the service serves. */
  ready: (port: number) => Promise<boolean>;
  configVersion?: number;
}

/** Writes what a service needs to start on `port` (config files, the start script) and how to check it. */
async function prepareService(inputs: LocalProcessInputs, port: number): Promise<Launch> {
  const d = dirs(inputs.envDir);
  switch (inputs.kind) {
    case "redis": {
      // A config file (mode 0600) keeps the password off the command line.
      const conf = path.join(d.conf, `${inputs.name}.conf`);
      const workDir = path.join(inputs.envDir, "redis", inputs.name);
      mkdirSync(workDir, { recursive: true });
      const lines = [
        `port ${port}`,
        `bind ${LOOPBACK}`,
        "protected-mode yes",
        "daemonize no",
        `dir ${workDir}`,
        'save ""',
        // `aof` (the local stand-in for ElastiCache): a restarted primary reloads its data. Fsync every second,
        // so a crash can lose the last second of writes (the voting app's run-id check then rebuilds the tally).
        ...(inputs.persistence === "aof" ? ["appendonly yes", "appendfsync everysec"] : ["appendonly no"]),
        // Replicas sync over the socket right away instead of waiting 5 s for more replicas.
        "repl-diskless-sync yes",
        "repl-diskless-sync-delay 0",
        // Redis otherwise rewrites its process title over the memory /proc/<pid>/environ shows, and with
        // it the markers that find the process in the process table.
        "set-proc-title no",
      ];
      if (inputs.password) lines.push(`requirepass ${inputs.password}`, `masterauth ${inputs.password}`);
      if (inputs.replicaOf)
        lines.push(`replicaof ${inputs.replicaOf.host} ${inputs.replicaOf.port}`, "replica-read-only yes");
      writeAtomic(conf, `${lines.join("\n")}\n`);
      const before =
        !inputs.replicaOf && inputs.seedScript
          ? [`${sh(process.execPath)} ${sh(inputs.seedScript)} ${sh(inputs.envDir)} ${sh(inputs.name)}`]
          : [];
      return {
        before,
        exec: [inputs.redisServer ?? "redis-server", conf],
        ready: (p) => isListening(p),
      };
    }
    case "app": {
      if (!inputs.main) throw new Error(`${inputs.name}: no voting app entry point`);
      return {
        env: { NODE_ENV: "production", ...inputs.env, PORT: String(port), HOST: LOOPBACK },
        exec: [process.execPath, inputs.main],
        ready: async (p) => (await httpStatus(p, "/healthz")) === 200,
      };
    }
    case "postgres": {
      if (!inputs.postgresBin || !inputs.password)
        throw new Error(`${inputs.name}: no PostgreSQL binaries or password`);
      const binDir = inputs.postgresBin;
      const password = inputs.password;
      // In the environment's folder, so destroy removes it with everything else; kept across restarts.
      const dataDir = path.join(inputs.envDir, "postgres", "data");
      const runAs = await runAsFor([binDir, dataDir]);
      await initialiseCluster({ binDir, dataDir, password, runAs });
      return {
        env: { LC_ALL: "C" },
        exec: [path.join(binDir, "postgres"), ...serverArgs(dataDir, port)],
        ...(runAs ? { runAs: { ...runAs, user: "postgres" } } : {}),
        // Fast shutdown through the postmaster alone: it stops its own children in order.
        stop: { signal: "INT", asGroup: false, waitSeconds: 10 },
        ready: async (p) => {
          if (!(await isListening(p))) return false;
          try {
            await ensureDatabase(p, password);
            return true;
          } catch {
            return false;
          }
        },
      };
    }
    case "tcp-balancer":
    case "http-balancer": {
      const version = Date.now();
      const socket = statsSocket(inputs.envDir, inputs.name);
      mkdirSync(path.dirname(socket), { recursive: true });
      const cfg = path.join(d.conf, `${inputs.name}.haproxy.cfg`);
      writeAtomic(
        cfg,
        renderHaproxyConfig({
          mode: inputs.kind === "http-balancer" ? "http" : "tcp",
          listenHost: LOOPBACK,
          listenPort: port,
          backends: inputs.backends ?? [],
          statsSocket: socket,
          version,
          healthPath: inputs.healthPath,
          redisPassword: inputs.kind === "tcp-balancer" ? inputs.password : undefined,
          redisRole: inputs.redisRole,
        }),
      );
      return {
        exec: [inputs.haproxy ?? "haproxy", "-W", "-db", "-f", cfg],
        ready: (p) => balancerApplied(inputs, p, version),
        configVersion: version,
      };
    }
    case "supervisor":
      throw new Error("the supervisor is not a service");
  }
}

/** True once the balancer runs config `version` and has health-checked every backend of it once. */
async function balancerApplied(inputs: LocalProcessInputs, port: number, version: number): Promise<boolean> {
  if (!(await isListening(port))) return false;
  const state = await balancerState(statsSocket(inputs.envDir, inputs.name));
  if (!state || state.version !== version) return false;
  const wanted = (inputs.backends ?? []).map((b) => b.name).sort();
  const servers = state.servers.map((s) => s.name).sort();
  if (JSON.stringify(wanted) !== JSON.stringify(servers)) return false;
  return state.servers.every((s) => s.checkStatus !== "" && s.checkStatus !== "INI");
}

function writeScript(inputs: LocalProcessInputs, launch: Launch): string {
  // A script run as another user is that user's (it holds no secret: PostgreSQL's password is in its cluster).
  const file = scriptFile(inputs.envDir, inputs.name);
  const env = { ...launch.env, [PROCESS_NAME_VAR]: inputs.name };
  const lines = [
    "#!/bin/sh",
    `# ${inputs.name} (${inputs.kind}): written by the local target's provider, run by supervisord.`,
    ...Object.entries(env).map(([k, v]) => `export ${k}=${sh(v)}`),
    ...(launch.before ?? []),
    `exec ${launch.exec.map(sh).join(" ")}`,
  ];
  writeAtomic(file, `${lines.join("\n")}\n`, 0o700);
  if (launch.runAs) chownSync(file, launch.runAs.uid, launch.runAs.gid);
  return file;
}

/** Waits until the service serves; throws with its log when the supervisor says it cannot start. */
async function waitReady(
  inputs: LocalProcessInputs,
  port: number,
  launch: Launch,
  logFile: string,
  timeoutMs = READY_TIMEOUT_MS,
) {
  const ctl = ctlOf(inputs);
  const deadline = Date.now() + timeoutMs;
  let nextStatus = Date.now() + 300;
  while (Date.now() < deadline) {
    if (await launch.ready(port)) return;
    if (Date.now() >= nextStatus) {
      const status = await programStatus(ctl, inputs.name);
      // BACKOFF: it exited before it had run for startsecs. The supervisor would try again, but a service
      // that cannot start now is a failed step (with its log), not something to wait out.
      if (status.state === "BACKOFF" && /address already in use|EADDRINUSE/i.test(logTail(logFile, 5))) {
        throw new Error(`port ${port} is taken (address already in use)`);
      }
      if (status.state === "BACKOFF") throw new Error("exited during start");
      if (!SUPERVISED_STATES.has(status.state)) throw new Error(`${status.state}: ${status.detail}`);
      nextStatus = Date.now() + 500;
    }
    await sleep(50);
  }
  throw new Error(`not serving on port ${port} after ${READY_TIMEOUT_MS / 1000} s`);
}

/** `<envDir>/ports.json`: the last port of each service, so one created again gets its endpoint back. */
function rememberedPorts(envDir: string): Record<string, number> {
  try {
    return JSON.parse(readFileSync(path.join(envDir, "ports.json"), "utf8"));
  } catch {
    return {};
  }
}

function rememberPort(envDir: string, name: string, port: number): void {
  const file = path.join(envDir, "ports.json");
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ ...rememberedPorts(envDir), [name]: port }));
  renameSync(tmp, file);
}

function onPath(bin: string): boolean {
  return bin.includes("/")
    ? existsSync(bin)
    : (process.env.PATH ?? "").split(path.delimiter).some((p) => p && existsSync(path.join(p, bin)));
}

function assertStartable(inputs: LocalProcessInputs): void {
  const need = (bin: string | undefined, fallback: string, pkg: string, variable: string) => {
    const b = bin ?? fallback;
    if (!onPath(b)) {
      throw new Error(
        `${fallback} not found (${b}): install it (e.g. apt-get install ${pkg}) or set ${variable}`,
      );
    }
  };
  if (inputs.kind === "supervisor") need(inputs.supervisord, "supervisord", "supervisor", "SUPERVISORD_PATH");
  if (inputs.kind === "redis") need(inputs.redisServer, "redis-server", "redis-server", "REDIS_SERVER_PATH");
  if (isBalancer(inputs.kind)) need(inputs.haproxy, "haproxy", "haproxy", "HAPROXY_PATH");
  if (inputs.kind === "app" && inputs.main && !existsSync(inputs.main)) {
    throw new Error(
      `voting app not built: ${inputs.main} is missing (run npm run build -w @platform/voting-app)`,
    );
  }
}

async function createSupervisor(
  inputs: LocalProcessInputs,
): Promise<{ id: string; outs: LocalProcessOutputs }> {
  const p = supervisorPaths(inputs.envDir);
  for (const dir of [...Object.values(dirs(inputs.envDir)), p.programsDir, path.dirname(p.socket)])
    mkdirSync(dir, { recursive: true });
  // A new supervisor starts with no service: their resources add them (a leftover program file of a
  // supervisor that died would start a second copy of a process that may still run).
  rmSync(p.programsDir, { recursive: true, force: true });
  mkdirSync(p.programsDir, { recursive: true });
  rmSync(p.socket, { force: true });
  if (!inputs.eventsListener) throw new Error("supervisor: no event listener program");
  writeAtomic(
    p.config,
    renderSupervisordConfig(p, {
      node: inputs.node ?? process.execPath,
      eventsListener: inputs.eventsListener,
    }),
  );
  const control: SupervisorControl = {
    config: p.config,
    socket: p.socket,
  };
  const logFile = path.join(dirs(inputs.envDir).logs, "supervisord.out");
  const proc = spawnDetached(inputs.supervisord ?? "supervisord", ["-n", "-c", p.config], {
    env: baseEnv(inputs.envDir, inputs.name),
    logFile,
    cwd: inputs.envDir,
  });
  const ctl: Ctl = { paths: p };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await supervisorAnswers(ctl))) {
    if (!isSameProcess(proc.pid, proc.startTime) || Date.now() > deadline) {
      await stopProcess(proc.pid, proc.startTime, undefined, 1000);
      const tail = logTail(logFile, 8) || logTail(p.log, 8);
      throw new Error(`supervisor (supervisord) failed to start${tail ? `:\n${tail}` : ""}`);
    }
    await sleep(50);
  }
  const outs: LocalProcessOutputs = {
    ...inputs,
    pid: proc.pid,
    startTime: proc.startTime,
    control,
    logFile: p.log,
  };
  return { id: `${inputs.name}-${proc.pid}`, outs: plain(outs) };
}

export async function create(inputs: LocalProcessInputs): Promise<{ id: string; outs: LocalProcessOutputs }> {
  assertStartable(inputs);
  if (inputs.kind === "supervisor") return await createSupervisor(inputs);
  const d = dirs(inputs.envDir);
  for (const dir of Object.values(d)) mkdirSync(dir, { recursive: true });
  const logFile = path.join(d.logs, `${inputs.name}.log`);
  const ctl = ctlOf(inputs);
  const remembered = rememberedPorts(inputs.envDir)[inputs.name];
  // A service created again (after it was lost) gets its old port when free, so endpoints stay stable.
  let port = remembered && (await isPortFree(remembered)) ? remembered : await freePort();
  let lastError = "";
  // A free port can be taken between our check and the child's bind: try a few.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const launch = await prepareService(inputs, port);
    const script = writeScript(inputs, launch);
    writeFileSync(logFile, `--- ${new Date().toISOString()} starting ${inputs.name} on port ${port}\n`, {
      flag: "a",
    });
    try {
      await addProgram(ctl, {
        name: inputs.name,
        script,
        logFile,
        user: launch.runAs?.user,
        stop: launch.stop,
      });
      await waitReady(inputs, port, launch, logFile);
      rememberPort(inputs.envDir, inputs.name, port);
      const outs: LocalProcessOutputs = {
        ...inputs,
        host: LOOPBACK,
        port,
        endpoint: `${LOOPBACK}:${port}`,
        url:
          inputs.kind === "app" || inputs.kind === "http-balancer" ? `http://${LOOPBACK}:${port}` : undefined,
        logFile,
        configVersion: launch.configVersion,
      };
      return { id: inputs.name, outs: plain(outs) };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const tail = logTail(logFile, 8);
      lastError = `${inputs.name} (${inputs.kind}) failed to start: ${message}${tail ? `\n${tail}` : ""}`;
      if (!/address already in use|EADDRINUSE/i.test(`${message}\n${tail}`) || attempt === 3) {
        await removeService(inputs);
        break;
      }
      port = await freePort();
    }
  }
  throw new Error(lastError);
}

/** Reality of one resource: is it there (a live supervisor; a service its supervisor keeps running)? */
async function present(props: LocalProcessOutputs): Promise<boolean> {
  if (props.kind === "supervisor") {
    return isSameProcess(props.pid, props.startTime) && (await supervisorAnswers(ctlOfSupervisor(props)));
  }
  if (!props.supervisor) return isSameProcess(props.pid, props.startTime); // created before supervision
  const status = await programStatus(ctlOf(props), props.name);
  return SUPERVISED_STATES.has(status.state);
}

function ctlOfSupervisor(props: LocalProcessOutputs): Ctl {
  return { paths: supervisorPaths(props.envDir) };
}

const changedKeys = (
  olds: LocalProcessInputs,
  news: LocalProcessInputs,
  keys: (keyof LocalProcessInputs)[],
) => keys.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));

export async function diff(
  _id: string,
  olds: LocalProcessOutputs,
  news: LocalProcessInputs,
): Promise<{ changes: boolean; replaces?: string[]; deleteBeforeReplace?: boolean }> {
  // Reality first: what is gone (a dead supervisor, a service its supervisor gave up on) is started again,
  // on the same port, after the old one is cleaned up.
  if (!(await present(olds))) return { changes: true, replaces: ["running"], deleteBeforeReplace: true };
  const identity = changedKeys(olds, news, IDENTITY_INPUTS);
  if (olds.kind === "supervisor") {
    const changed = [...identity, ...changedKeys(olds, news, SUPERVISOR_INPUTS)];
    return changed.length
      ? { changes: true, replaces: changed, deleteBeforeReplace: true }
      : { changes: false };
  }
  if (identity.length) return { changes: true, replaces: identity, deleteBeforeReplace: true };
  // Everything else is applied in place (update): same program, same port.
  return changedKeys(olds, news, SERVICE_INPUTS).length ? { changes: true } : { changes: false };
}

export async function update(
  _id: string,
  olds: LocalProcessOutputs,
  news: LocalProcessInputs,
): Promise<{ outs: LocalProcessOutputs }> {
  const port = olds.port ?? 0;
  const logFile = olds.logFile;
  const launch = await prepareService(news, port);
  writeScript(news, launch);
  const ctl = ctlOf(news);
  try {
    if (isBalancer(news.kind)) {
      // HAProxy's master reloads its config on SIGUSR2 and hands the listening socket to a new worker. A signal
      // that reaches a master still busy with a previous reload can go unanswered: ask again (a reload of the
      // same file twice is harmless).
      for (let attempt = 1; ; attempt++) {
        await signalProgram(ctl, news.name, "USR2");
        try {
          await waitReady(news, port, launch, logFile, attempt < 3 ? 5000 : READY_TIMEOUT_MS);
          break;
        } catch (err) {
          if (attempt >= 3) throw err;
        }
      }
    } else {
      await restartProgram(ctl, news.name);
      await waitReady(news, port, launch, logFile);
    }
  } catch (err) {
    const tail = logTail(logFile, 8);
    throw new Error(
      `${news.name} (${news.kind}) did not apply its new configuration: ${err instanceof Error ? err.message : err}${tail ? `\n${tail}` : ""}`,
    );
  }
  return { outs: plain({ ...olds, ...news, configVersion: launch.configVersion }) };
}

export async function read(
  id: string,
  props: LocalProcessOutputs,
): Promise<{ id: string; props: LocalProcessOutputs | Record<string, never> }> {
  // An empty id tells the engine the resource is gone: refresh drops it and the next up creates it again.
  // A service the supervisor is restarting right now is there (the supervisor repairs it by itself).
  return (await present(props)) ? { id, props } : { id: "", props: {} };
}

/** Stops and forgets a service, and any process still running under its name (e.g. a dead supervisor's). */
async function removeService(
  props: LocalProcessInputs & { port?: number; pid?: number; startTime?: string },
) {
  const ctl = ctlOf(props);
  if (props.supervisor) {
    const status = await programStatus(ctl, props.name);
    if (status.state !== "UNREACHABLE" && status.state !== "ABSENT") await removeProgram(ctl, props.name);
    rmSync(path.join(ctl.paths.programsDir, `${props.name}.conf`), { force: true });
  } else if (props.pid) {
    await stopProcess(props.pid, props.startTime, undefined); // created before supervision
  }
  for (const p of processesOfEnvironment(props.envDir)) {
    if (p.name === props.name) await stopProcess(p.pid, p.startTime, undefined, 2000);
  }
  if (props.port) {
    const deadline = Date.now() + 5000;
    while (!(await isPortFree(props.port)) && Date.now() < deadline) await sleep(50);
  }
  const d = dirs(props.envDir);
  rmSync(scriptFile(props.envDir, props.name), { force: true });
  rmSync(path.join(d.conf, `${props.name}.haproxy.cfg`), { force: true });
  if (isBalancer(props.kind)) rmSync(statsSocket(props.envDir, props.name), { force: true });
}

export async function remove(_id: string, props: LocalProcessOutputs): Promise<void> {
  if (props.kind !== "supervisor") {
    await removeService(props);
    return;
  }
  // supervisord stops what it still runs (its event listener) when it gets SIGTERM.
  await stopProcess(props.pid, props.startTime, undefined, 15_000);
  const p = supervisorPaths(props.envDir);
  for (const proc of processesOfEnvironment(props.envDir)) {
    if (proc.name === props.name || proc.name === "process-events") {
      await stopProcess(proc.pid, proc.startTime, undefined, 2000);
    }
  }
  rmSync(p.socket, { force: true });
  rmSync(p.pidFile, { force: true });
}
