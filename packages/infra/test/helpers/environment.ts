import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import path from "node:path";
import type { OperationEvent } from "../../src/index";
import { processControl } from "./infra";

/** The voting app the local target runs: VOTING_APP_MAIN, else the workspace package's build. */
export function votingAppMain(): string {
  const main = process.env.VOTING_APP_MAIN ?? path.resolve(__dirname, "../../../voting-app/dist/main.js");
  if (!existsSync(main)) {
    throw new Error(`the voting app is not built (${main}): run npm run build -w @platform/voting-app`);
  }
  return main;
}

/** A service of an environment's supervisor, as `supervisorctl status` shows it, with its port. */
export interface ServiceRecord {
  name: string;
  /** RUNNING, STARTING, BACKOFF, STOPPED, EXITED, FATAL. */
  state: string;
  pid: number;
  /** /proc start time when it was listed: with the pid, identifies the process. */
  startTime: string;
  /** From the environment's ports.json. */
  port: number;
}

/** The services an environment's supervisord runs (its event listener aside), asked with supervisorctl. */
export function services(envDir: string): ServiceRecord[] {
  const config = path.join(envDir, "supervisor", "supervisord.conf");
  if (!existsSync(config)) return [];
  const out = spawnSync("supervisorctl", ["-c", config, "status"], { encoding: "utf8" }).stdout ?? "";
  let ports: Record<string, number> = {};
  try {
    ports = JSON.parse(readFileSync(path.join(envDir, "ports.json"), "utf8"));
  } catch {
    // none yet
  }
  return out
    .split("\n")
    .map((line) => line.match(/^(\S+)\s+([A-Z]+)\s*(?:pid (\d+))?/))
    .filter((m): m is RegExpMatchArray => !!m && m[1] !== "process-events" && /^[A-Z]+$/.test(m[2] ?? ""))
    .map((m) => {
      const pid = Number(m[3] ?? 0);
      return {
        name: m[1] ?? "",
        state: m[2] ?? "",
        pid,
        startTime: (pid && processControl.processStartTime(pid)) || "",
        port: ports[m[1] ?? ""] ?? 0,
      };
    });
}

export const serviceNamed = (envDir: string, name: string) => services(envDir).find((s) => s.name === name);

/** Waits until `check` returns a value (not undefined/false), or fails after `ms`. */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  ms = 15_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await sleep(50);
  }
}

export function alive(r: { pid: number; startTime: string }): boolean {
  return processControl.isSameProcess(r.pid, r.startTime);
}

export async function portFree(port: number): Promise<boolean> {
  return await processControl.isPortFree(port);
}

export function collect() {
  const events: OperationEvent[] = [];
  return { events, onEvent: (e: OperationEvent) => events.push(e) };
}

export async function getText(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.text() };
}

export async function vote(frontendUrl: string, option: string): Promise<Response> {
  return await fetch(`${frontendUrl}/api/votes`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ option }),
    signal: AbortSignal.timeout(5000),
  });
}

export async function results(frontendUrl: string): Promise<{ options: { name: string; count: number }[] }> {
  const res = await fetch(`${frontendUrl}/api/results`, { signal: AbortSignal.timeout(5000) });
  if (res.status !== 200) throw new Error(`GET /api/results answered ${res.status}`);
  return (await res.json()) as { options: { name: string; count: number }[] };
}

export const countOf = (r: { options: { name: string; count: number }[] }, name: string) =>
  r.options.find((o) => o.name === name)?.count ?? 0;

/** The replica names a frontend URL's page says it was served by, over `n` requests. */
export async function servedBy(frontendUrl: string, n: number): Promise<Set<string>> {
  const names = new Set<string>();
  for (let i = 0; i < n; i++) {
    const { status, body } = await getText(`${frontendUrl}/`);
    if (status !== 200) throw new Error(`GET / answered ${status}`);
    const match = body.match(/data-testid="served-by"[^>]*>([^<]+)</);
    if (match?.[1]) names.add(match[1].trim());
  }
  return names;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface TableProcess {
  pid: number;
  /** Its resource name, from the environment it was started with. */
  name: string;
  cwd: string;
  /** Its environment variables. */
  env: Record<string, string>;
}

/**
 * The live processes of an environment as the process table shows them: every process (zombies aside)
 * started with `PLATFORM_ENVIRONMENT_DIR=<envDir>` or running in a folder under `envDir`. Read from /proc
 * here, independently of the code under test.
 */
export function environmentProcesses(envDir: string): TableProcess[] {
  const found: TableProcess[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (/^[ZX]$/.test(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0] ?? "")) continue;
      const environ = readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      const marked = environ.includes(`PLATFORM_ENVIRONMENT_DIR=${envDir}`);
      if (!marked && !cwd.startsWith(`${envDir}${path.sep}`) && cwd !== envDir) continue;
      const env = Object.fromEntries(
        environ.filter(Boolean).map((v) => [v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1)]),
      );
      found.push({ pid: Number(entry), name: env.PLATFORM_PROCESS_NAME ?? "?", cwd, env });
    } catch {
      // gone meanwhile, or not readable
    }
  }
  return found;
}

/** Temporary Pulumi workspaces of an environment still on disk. */
/** Workspaces of `name` left in the data folder's workspace folder (`<dataDir>/.workspaces`, mode 0700). */
export function leftoverWorkspaces(dataDir: string, name: string): string[] {
  const root = path.join(dataDir, ".workspaces");
  return existsSync(root) ? readdirSync(root).filter((f) => f.includes(`-${name}-`)) : [];
}

/**
 * After the tests of a data folder, also failed ones: stops every process any of its environments started,
 * found in the process table (supervisors first: they stop their own programs).
 */
export async function stopEverythingUnder(dataDir: string): Promise<void> {
  if (!existsSync(dataDir)) return;
  for (const name of readdirSync(dataDir)) {
    const envDir = path.join(dataDir, name);
    const table = environmentProcesses(envDir).sort((a, b) =>
      a.name === "supervisor" ? -1 : b.name === "supervisor" ? 1 : 0,
    );
    for (const p of table) {
      await processControl.stopProcess(p.pid, processControl.processStartTime(p.pid), undefined, 5000);
    }
  }
}

/** The parent pid of a process (from /proc), 0 when gone. */
export function parentPid(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) || 0;
  } catch {
    return 0;
  }
}
