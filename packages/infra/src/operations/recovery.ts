import { readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import {
  isListening,
  isSameProcess,
  listPids,
  pidAlive,
  procEntry,
  processesOfEnvironment,
  processStartTime as processStartTimeOf,
  stopProcess,
} from "../local/process-control";
import { programFiles, removeProgram, supervisorPaths } from "../local/supervisor";
import type { CheckpointSummary, StackLock, StateStore } from "../state";
import { EnvironmentOperationError } from "./errors";

/** Is the process that wrote a lock still running? Only answerable for locks written on this host. */
export function lockOwnerAlive(lock: Pick<StackLock, "pid" | "hostname">): boolean {
  if (lock.hostname !== os.hostname()) return true; // another machine: assume it is alive
  if (!pidAlive(lock.pid)) return false;
  // The pid is in use: is it still a pulumi CLI (and not a recycled pid)?
  const cmdline = procEntry(lock.pid, "cmdline");
  return cmdline === undefined || cmdline.some((arg) => arg.includes("pulumi"));
}

/**
 * Pulumi provider plugins of a killed CLI outlive it (the CLI starts them in their own process group) and
 * never exit by themselves. Finds those started with our PULUMI_HOME whose engine address no longer
 * answers, and stops them. Linux only (reads /proc); elsewhere it does nothing.
 */
export async function reapOrphanedPlugins(
  pulumiHome: string,
  notice: (message: string) => void,
): Promise<void> {
  for (const pid of listPids()) {
    const cmdline = procEntry(pid, "cmdline") ?? [];
    if (!cmdline.some((a) => a.includes("pulumi-resource-") || a.includes("dynamic-provider"))) continue;
    if (!procEntry(pid, "environ")?.includes(`PULUMI_HOME=${pulumiHome}`)) continue;
    const engine = cmdline.find((a) => /^127\.0\.0\.1:\d+$/.test(a));
    if (!engine) continue;
    if (await isListening(Number(engine.split(":")[1]))) continue; // its engine is alive: a running operation
    const startTime = processStartTimeOf(pid);
    await stopProcess(pid, startTime, undefined, 1000);
    notice(`stopped a provider plugin (pid ${pid}) left behind by a killed run`);
  }
}

export interface RecoveryInput {
  store: StateStore;
  project: string;
  stack: string;
  /** The local target's folder for this environment (its supervisor, configs); absent for aws. */
  envDir?: string;
  /** PULUMI_HOME of our CLI runs: identifies provider plugins a killed run left behind. */
  pulumiHome?: string;
  /** Opens the stack through the CLI, only when pending operations must be cleared. */
  openStack: () => Promise<Stack>;
  notice: (message: string) => void;
  /** Cloud target: drop pending creates too (someone checked they do not exist). */
  clearPendingCreates?: boolean;
  /** The tag naming the stack on its resources: `Environment` (default) or `Network`. */
  stackTag?: "Environment" | "Network";
}

/** The last part of a URN: the resource's name. */
const nameOf = (urn: string) => urn.split("::").pop() ?? urn;

/**
 * Why a cloud stack cannot be recovered by itself: resources a killed run was creating may exist in the
 * account without being in the state (costing money, holding their names). The message lists them and
 * says how to resolve it.
 */
export function pendingCreatesError(
  stack: string,
  creates: { type: string; urn: string }[],
  stackTag: "Environment" | "Network" = "Environment",
): EnvironmentOperationError {
  const typeOf = (urn: string) => urn.split("::")[2]?.split("$").pop() ?? "resource";
  const list = creates.map((c) => `  ${typeOf(c.urn)} ${nameOf(c.urn)} (${c.urn})`).join("\n");
  const importCommand = `pulumi refresh --stack ${stack} --import-pending-creates <urn> <id>`;
  const clearCommand = `pulumi refresh --stack ${stack} --clear-pending-creates`;
  return new EnvironmentOperationError(
    "pending-creates",
    [
      `a run on ${stack} was interrupted while creating ${creates.length} resource(s) that the state does not hold but the cloud account may (they would keep costing money and block their names):`,
      list,
      `Nothing was changed. Look for them in the account (tags ${stackTag}=${stack}, ManagedBy=platform-portal), then either import each one that exists (${importCommand}) or, once none of them exists, drop them from the state (${clearCommand}), with the portal's PULUMI_BACKEND_URL and PULUMI_CONFIG_PASSPHRASE. Then retry.`,
    ].join("\n"),
  );
}

/**
 * Makes a stack usable again after a run that was killed: removes locks whose owner process is dead, clears
 * pending operations (export, edit, import) and stops local processes that no resource in the state owns
 * (started by a create the killed run never recorded). Refuses when a live process holds the lock.
 * Returns the checkpoint as it stands afterwards (undefined for a stack that does not exist yet).
 */
export async function recoverStack(input: RecoveryInput): Promise<CheckpointSummary | undefined> {
  const { store, project, stack, notice } = input;
  for (const lock of await store.listLocks(project, stack)) {
    if (lockOwnerAlive(lock)) {
      throw new EnvironmentOperationError(
        "concurrent-operation",
        `another operation is running on ${stack}: its stack is locked by ${lock.username}@${lock.hostname} (pid ${lock.pid}) since ${lock.timestamp}${
          lock.hostname === os.hostname()
            ? ""
            : `; whether that run still lives cannot be told from here: if that machine's run is gone, delete the lock ${lock.key} from the state backend`
        }`,
      );
    }
    await store.deleteLock(lock.key);
    notice(
      `cleared a stale lock on ${stack} left by a run that ended without unlocking (pid ${lock.pid}, ${lock.timestamp})`,
    );
    if (input.pulumiHome) await reapOrphanedPlugins(input.pulumiHome, notice);
  }

  const checkpoint = await store.readCheckpoint(project, stack);
  // A local target's pending creates are processes: the orphan reaper below finds and stops them. A cloud
  // target's may be real resources the state would lose: never dropped silently.
  const creates = checkpoint?.pendingOperations.filter((p) => p.type === "creating") ?? [];
  if (!input.envDir && creates.length > 0 && !input.clearPendingCreates) {
    const names = creates.map((c) => nameOf(c.urn)).join(", ");
    notice(
      `pending creates of an interrupted run on ${stack} (${names}): nothing runs until they are resolved`,
    );
    throw pendingCreatesError(stack, creates, input.stackTag);
  }
  if (checkpoint && checkpoint.pendingOperations.length > 0) {
    const s = await input.openStack();
    const state = await s.exportStack();
    const pending = (state.deployment?.pending_operations ?? []) as {
      type: string;
      resource: { urn: string };
    }[];
    if (pending.length > 0) {
      state.deployment.pending_operations = [];
      await s.importStack(state);
      const list = pending.map((p) => `${p.type} ${p.resource.urn.split("::").pop()}`).join(", ");
      notice(
        `cleared ${pending.length} pending operation(s) of an interrupted run on ${stack} (${list}); refresh reconciles them`,
      );
    }
    checkpoint.pendingOperations = [];
  }

  if (input.envDir) await reapOrphans(input.envDir, checkpoint, notice);
  return checkpoint;
}

/** The parent pid of a process (field 4 of /proc/<pid>/stat), 0 when unknown. */
function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) || 0;
  } catch {
    return 0;
  }
}

function descendsFrom(pid: number, ancestor: number): boolean {
  for (let p = parentOf(pid), hops = 0; p > 1 && hops < 32; p = parentOf(p), hops++) {
    if (p === ancestor) return true;
  }
  return false;
}

/**
 * Stops what runs for this environment that no resource in the state owns (started by a run that was
 * killed before it recorded it), in two passes:
 * 1. programs of the environment's supervisor that are not a service in the state: stopped and removed;
 * 2. processes found in the process table by their environment marker: kept only when they are the
 *    supervisor the state knows, or run under it with the name of a service in the state. So a supervisor
 *    that died leaves no process behind (its children outlive it), nor does a run killed mid-create.
 * With no checkpoint (a destroyed or never-recorded stack), that is everything.
 */
export async function reapOrphans(
  envDir: string,
  checkpoint: CheckpointSummary | undefined,
  notice: (message: string) => void,
): Promise<void> {
  const environment = path.basename(envDir);
  const local = (checkpoint?.resources ?? []).filter((r) =>
    r.type.startsWith("pulumi-nodejs:dynamic/local:"),
  );
  const supervisor = local.find((r) => r.type.endsWith(":Supervisor"));
  const services = new Set(local.filter((r) => r !== supervisor && r.name).map((r) => r.name));
  const liveSupervisor =
    supervisor?.pid && isSameProcess(supervisor.pid, supervisor.startTime) ? supervisor.pid : undefined;

  const paths = supervisorPaths(envDir);
  for (const name of programFiles(paths)) {
    if (services.has(name)) continue;
    rmSync(path.join(paths.programsDir, `${name}.conf`), { force: true });
    // Without a live supervisor the file is only a leftover (a new supervisor starts without it).
    if (!liveSupervisor) continue;
    await removeProgram({ paths }, name);
    notice(
      `stopped ${name} of ${environment} and removed it from its supervisor: no resource in the state owns it (a run that was interrupted started it but never recorded it)`,
    );
  }

  const kept = (p: { pid: number; name: string }) =>
    liveSupervisor !== undefined &&
    (p.pid === liveSupervisor ||
      (descendsFrom(p.pid, liveSupervisor) && (services.has(p.name) || p.name === "process-events")));
  const why =
    supervisor?.pid && !liveSupervisor
      ? `the environment's supervisor (pid ${supervisor.pid}) is gone, so nothing supervises it`
      : "no resource in the state owns it";
  // The supervisor first: it stops its own children on the way.
  const found = processesOfEnvironment(envDir).sort((a, b) =>
    a.name === "supervisor" ? -1 : b.name === "supervisor" ? 1 : 0,
  );
  for (const p of found) {
    if (kept(p) || !isSameProcess(p.pid, p.startTime)) continue;
    await stopProcess(p.pid, p.startTime, undefined, p.name === "supervisor" ? 10_000 : 5000);
    notice(`stopped ${p.name} of ${environment} (pid ${p.pid}), found in the process table: ${why}`);
  }
}
