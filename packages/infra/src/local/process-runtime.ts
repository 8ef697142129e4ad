// What the local target's dynamic provider does, as a plain module: the serialized provider (provider.ts)
// `require`s this file by absolute path inside the Pulumi provider plugin process, so the logic lives in
// normal compiled code instead of in serialized closures.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import path from "node:path";
import type { Backend, BalancerConfig, BalancerStatus } from "./balancer-core";
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
  processStartTime,
  sleep,
  spawnDetached,
  stopProcess,
} from "./process-control";

export type LocalProcessKind = "redis" | "app" | "tcp-balancer" | "http-balancer" | "postgres";

/** Inputs of every local process resource; which fields apply depends on `kind`. */
export interface LocalProcessInputs {
  kind: LocalProcessKind;
  /** Resource name inside the environment, e.g. `frontend-1`; names its log and config files. */
  name: string;
  /** `<dataDir>/<environment>`: pid files, logs and configs of this environment's processes. */
  envDir: string;
  /** redis: the `redis-server` binary, the password, and the primary to replicate (read replicas). */
  redisServer?: string;
  password?: string;
  replicaOf?: { host: string; port: number };
  /** redis: `aof` keeps the data across restarts (appendonly, fsync every second), as a managed cache does. */
  persistence?: "none" | "aof";
  /** postgres: the folder of the PostgreSQL binaries (initdb, postgres); `password` is the user's password. */
  postgresBin?: string;
  /** app: the voting app's entry point and its environment. */
  main?: string;
  env?: Record<string, string>;
  /** balancers: the balancer program and the backends to spread over. */
  script?: string;
  backends?: Backend[];
  healthPath?: string;
}

export interface LocalProcessOutputs extends LocalProcessInputs {
  pid: number;
  /** /proc start time: with the pid, identifies the process (a recycled pid does not match). */
  startTime: string;
  startedAt: string;
  host: string;
  port: number;
  /** host:port */
  endpoint: string;
  url?: string;
  logFile: string;
  pidFile: string;
  configVersion?: number;
}

/** What a pid file holds; the orphan reaper reads these. */
export interface PidFile {
  id: string;
  kind: LocalProcessKind;
  name: string;
  pid: number;
  startTime: string;
  port: number;
}

const INPUT_KEYS: (keyof LocalProcessInputs)[] = [
  "kind",
  "name",
  "envDir",
  "redisServer",
  "password",
  "replicaOf",
  "persistence",
  "postgresBin",
  "main",
  "env",
  "script",
  "backends",
  "healthPath",
];

const READY_TIMEOUT_MS = 20_000;

/** The provider protocol's struct cannot carry `undefined`: drop such fields. */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value));

const dirs = (envDir: string) => ({
  run: path.join(envDir, "run"),
  logs: path.join(envDir, "logs"),
  conf: path.join(envDir, "conf"),
});

/**
 * A small, explicit environment: never leak the CLI's (PULUMI_CONFIG_PASSPHRASE, backend URL) to children.
 * Plus the two markers that find the process in the process table (recovery, destroy).
 */
function baseEnv(inputs: LocalProcessInputs): NodeJS.ProcessEnv {
  const keep = ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"];
  return {
    ...Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]])),
    [ENVIRONMENT_DIR_VAR]: inputs.envDir,
    [PROCESS_NAME_VAR]: inputs.name,
  };
}

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

function writeBalancerConfig(inputs: LocalProcessInputs, port: number, version: number): string {
  const d = dirs(inputs.envDir);
  // Named by port too: during a replacement the old and the new balancer must not share files.
  const file = path.join(d.conf, `${inputs.name}-${port}.json`);
  const config: BalancerConfig = {
    listenHost: LOOPBACK,
    listenPort: port,
    version,
    backends: inputs.backends ?? [],
    healthPath: inputs.healthPath,
    healthIntervalMs: 1000,
    healthTimeoutMs: 800,
    statusFile: statusFile(inputs, port),
  };
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(config, null, 2));
  renameSync(tmp, file);
  return file;
}

const statusFile = (inputs: LocalProcessInputs, port: number) =>
  path.join(dirs(inputs.envDir).run, `${inputs.name}-${port}.status.json`);

function readStatus(inputs: LocalProcessInputs, port: number): BalancerStatus | undefined {
  try {
    return JSON.parse(readFileSync(statusFile(inputs, port), "utf8"));
  } catch {
    return undefined;
  }
}

/** Waits until a balancer has health-checked the backends of config `version`. */
async function waitForBalancerVersion(
  inputs: LocalProcessInputs,
  pid: number,
  port: number,
  version: number,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const status = readStatus(inputs, port);
    if (status && status.pid === pid && status.version >= version) return;
    await sleep(25);
  }
  throw new Error(`${inputs.name}: the load balancer did not apply its new backends within 10 s`);
}

interface Launch {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Runs before the spawn (e.g. initdb), and says which user to run as. */
  prepare?: () => Promise<RunAs | undefined>;
  /** Resolves when the process serves; throws if it cannot. */
  ready: (pid: number, port: number) => Promise<void>;
  configVersion?: number;
}

function launchFor(inputs: LocalProcessInputs, port: number): Launch {
  const d = dirs(inputs.envDir);
  const listening = async (pid: number, p: number) => {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (!processStartTime(pid)) throw new Error("exited during start");
      if (await isListening(p)) return;
      await sleep(20);
    }
    throw new Error(`not listening on ${p} after ${READY_TIMEOUT_MS / 1000} s`);
  };
  switch (inputs.kind) {
    case "redis": {
      const redisServer = inputs.redisServer ?? "redis-server";
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
      writeFileSync(conf, `${lines.join("\n")}\n`, { mode: 0o600 });
      return { command: redisServer, args: [conf], env: baseEnv(inputs), ready: listening };
    }
    case "app": {
      if (!inputs.main) throw new Error(`${inputs.name}: no voting app entry point`);
      const env = {
        ...baseEnv(inputs),
        NODE_ENV: "production",
        ...inputs.env,
        PORT: String(port),
        HOST: LOOPBACK,
      };
      const ready = async (pid: number, p: number) => {
        const deadline = Date.now() + READY_TIMEOUT_MS;
        while (Date.now() < deadline) {
          if (!processStartTime(pid)) throw new Error("exited during start");
          if ((await httpStatus(p, "/healthz")) === 200) return;
          await sleep(50);
        }
        throw new Error(`GET /healthz did not answer 200 within ${READY_TIMEOUT_MS / 1000} s`);
      };
      return { command: process.execPath, args: [inputs.main], env, ready };
    }
    case "postgres": {
      if (!inputs.postgresBin || !inputs.password)
        throw new Error(`${inputs.name}: no PostgreSQL binaries or password`);
      const binDir = inputs.postgresBin;
      const password = inputs.password;
      // In the environment's folder, so destroy removes it with everything else; kept across restarts.
      const dataDir = path.join(inputs.envDir, "postgres", "data");
      const prepare = async () => {
        const runAs = await runAsFor([binDir, dataDir]);
        await initialiseCluster({ binDir, dataDir, password, runAs });
        return runAs;
      };
      const ready = async (pid: number, p: number) => {
        const deadline = Date.now() + READY_TIMEOUT_MS;
        let lastError = "";
        while (Date.now() < deadline) {
          if (!processStartTime(pid))
            throw new Error(`exited during start${lastError ? ` (${lastError})` : ""}`);
          if (await isListening(p)) {
            try {
              await ensureDatabase(p, password);
              return;
            } catch (err) {
              lastError = err instanceof Error ? err.message : String(err);
            }
          }
          await sleep(50);
        }
        throw new Error(
          `PostgreSQL did not accept connections within ${READY_TIMEOUT_MS / 1000} s: ${lastError}`,
        );
      };
      return {
        command: path.join(binDir, "postgres"),
        args: serverArgs(dataDir, port),
        env: { ...baseEnv(inputs), LC_ALL: "C" },
        prepare,
        ready,
      };
    }
    case "tcp-balancer":
    case "http-balancer": {
      if (!inputs.script) throw new Error(`${inputs.name}: no balancer program`);
      const version = Date.now();
      const configFile = writeBalancerConfig(inputs, port, version);
      const ready = async (pid: number, p: number) => {
        await listening(pid, p);
        await waitForBalancerVersion(inputs, pid, p, version);
      };
      return {
        command: process.execPath,
        args: [inputs.script, configFile],
        env: baseEnv(inputs),
        ready,
        configVersion: version,
      };
    }
  }
}

/** `<envDir>/ports.json`: the last port of each process name. */
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

function assertStartable(inputs: LocalProcessInputs): void {
  if (inputs.kind === "redis") {
    const bin = inputs.redisServer ?? "redis-server";
    const found = bin.includes("/")
      ? existsSync(bin)
      : (process.env.PATH ?? "").split(path.delimiter).some((p) => p && existsSync(path.join(p, bin)));
    if (!found) {
      throw new Error(
        `redis-server not found (${bin}): install it (e.g. apt-get install redis-server) or set REDIS_SERVER_PATH`,
      );
    }
  }
  if (inputs.kind === "app" && inputs.main && !existsSync(inputs.main)) {
    throw new Error(
      `voting app not built: ${inputs.main} is missing (run npm run build -w @platform/voting-app)`,
    );
  }
}

export async function create(inputs: LocalProcessInputs): Promise<{ id: string; outs: LocalProcessOutputs }> {
  assertStartable(inputs);
  const d = dirs(inputs.envDir);
  for (const dir of Object.values(d)) mkdirSync(dir, { recursive: true });
  const logFile = path.join(d.logs, `${inputs.name}.log`);
  let lastError = "";
  // A free port can be taken between our check and the child's bind: try a few.
  const remembered = rememberedPorts(inputs.envDir)[inputs.name];
  for (let attempt = 1; attempt <= 3; attempt++) {
    // A process started again (after a crash) gets its old port when free, so endpoints stay stable.
    const port =
      attempt === 1 && remembered && (await isPortFree(remembered)) ? remembered : await freePort();
    const launch = launchFor(inputs, port);
    writeFileSync(logFile, `--- ${new Date().toISOString()} starting ${inputs.name} on port ${port}\n`, {
      flag: "a",
    });
    const runAs = await launch.prepare?.();
    // The environment's folder as working directory, not the plugin's (a temporary workspace deleted after
    // the run): a person, or a cleanup looking for processes under a data folder, finds it there.
    const proc = spawnDetached(launch.command, launch.args, {
      env: launch.env,
      logFile,
      cwd: inputs.envDir,
      ...runAs,
    });
    const id = `${inputs.name}-${proc.pid}`;
    const pidFile = path.join(d.run, `${id}.json`);
    // Written before waiting, so a run killed right now still leaves a trace for the orphan reaper.
    const record: PidFile = {
      id,
      kind: inputs.kind,
      name: inputs.name,
      pid: proc.pid,
      startTime: proc.startTime,
      port,
    };
    writeFileSync(pidFile, JSON.stringify(record));
    try {
      await launch.ready(proc.pid, port);
      const outs: LocalProcessOutputs = {
        ...inputs,
        pid: proc.pid,
        startTime: proc.startTime,
        startedAt: new Date().toISOString(),
        host: LOOPBACK,
        port,
        endpoint: `${LOOPBACK}:${port}`,
        url:
          inputs.kind === "app" || inputs.kind === "http-balancer" ? `http://${LOOPBACK}:${port}` : undefined,
        logFile,
        pidFile,
        configVersion: launch.configVersion,
      };
      rememberPort(inputs.envDir, inputs.name, port);
      return { id, outs: plain(outs) };
    } catch (err) {
      await stopProcess(proc.pid, proc.startTime, undefined, 1000);
      rmSync(pidFile, { force: true });
      const tail = logTail(logFile, 8);
      lastError = `${inputs.name} (${inputs.kind}) failed to start: ${err instanceof Error ? err.message : String(err)}${tail ? `\n${tail}` : ""}`;
      if (!/address already in use|EADDRINUSE/i.test(tail)) break;
    }
  }
  throw new Error(lastError);
}

export async function diff(
  _id: string,
  olds: LocalProcessOutputs,
  news: LocalProcessInputs,
): Promise<{ changes: boolean; replaces?: string[]; deleteBeforeReplace?: boolean }> {
  // Reality first: a process that died (or whose pid now belongs to another) must be started again.
  if (!isSameProcess(olds.pid, olds.startTime)) return { changes: true, replaces: ["pid"] };
  const changed = INPUT_KEYS.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
  if (changed.length === 0) return { changes: false };
  const balancer = news.kind === "tcp-balancer" || news.kind === "http-balancer";
  // Balancers take new backends in place (same port, so the environment's URLs stay); all else restarts.
  const replaces = balancer ? changed.filter((k) => k !== "backends" && k !== "healthPath") : changed;
  return { changes: true, replaces };
}

export async function update(
  _id: string,
  olds: LocalProcessOutputs,
  news: LocalProcessInputs,
): Promise<{ outs: LocalProcessOutputs }> {
  const version = Date.now();
  writeBalancerConfig(news, olds.port, version);
  try {
    process.kill(olds.pid, "SIGHUP");
  } catch {
    // it also watches the file
  }
  await waitForBalancerVersion(news, olds.pid, olds.port, version);
  return { outs: plain({ ...olds, ...news, configVersion: version }) };
}

export async function read(
  id: string,
  props: LocalProcessOutputs,
): Promise<{ id: string; props: LocalProcessOutputs | Record<string, never> }> {
  // An empty id tells the engine the resource is gone: refresh drops it and the next up creates it again.
  if (!isSameProcess(props.pid, props.startTime)) return { id: "", props: {} };
  return { id, props };
}

export async function remove(id: string, props: LocalProcessOutputs): Promise<void> {
  if (props.kind === "postgres" && isSameProcess(props.pid, props.startTime)) {
    // Fast shutdown through the postmaster alone (it stops its own children in order); signalling the whole
    // group, as stopProcess does, would hit the auxiliary processes directly.
    try {
      process.kill(props.pid, "SIGINT");
    } catch {
      // gone meanwhile
    }
    const deadline = Date.now() + 10_000;
    while (isSameProcess(props.pid, props.startTime) && Date.now() < deadline) await sleep(25);
  }
  await stopProcess(props.pid, props.startTime, props.port);
  const d = dirs(props.envDir);
  rmSync(path.join(d.run, `${id}.json`), { force: true });
  if (props.port) {
    rmSync(statusFile(props, props.port), { force: true });
    rmSync(path.join(d.conf, `${props.name}-${props.port}.json`), { force: true });
  }
}
