// What the local target's supervisors repaired by themselves: reads the process state changes their event
// listener recorded (supervisor-events.ts) and pairs each unexpected exit with the start that replaced it.
// The portal's worker calls this regularly and records each batch in the operation history.
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { supervisorPaths } from "./supervisor";
import type { ProcessStateEvent } from "./supervisor-events";

/** Where reading stopped, to carry on from there next time (JSON-safe: the portal stores it). */
export interface RepairCursor {
  /** The events file's inode and the bytes read of it; a rotated file is finished from `<file>.1`. */
  inode: number;
  offset: number;
  /** Exits not yet followed by a start or a give-up, by process name. */
  open: Record<string, { pid?: number; exitedAt: string }>;
}

export interface Repair {
  /** The service, e.g. `frontend-1` or `redis-0`. */
  process: string;
  /** `restarted`: running again; `gave-up`: the supervisor stopped trying (FATAL), so it stays down. */
  outcome: "restarted" | "gave-up";
  exitedAt: string;
  /** The pid that exited, and the one that replaced it. */
  pid?: number;
  newPid?: number;
  /** When it was running again (restarted) or given up. */
  at: string;
  /** Time from the exit to running again. */
  downMs?: number;
}

function readFrom(file: string, offset: number): { text: string; end: number } {
  const size = statSync(file).size;
  const start = offset <= size ? offset : 0;
  const fd = openSync(file, "r");
  try {
    const buffer = Buffer.alloc(size - start);
    readSync(fd, buffer, 0, buffer.length, start);
    // Only whole lines: the listener may be writing the last one right now.
    const lastNewline = buffer.lastIndexOf(10);
    const whole = lastNewline < 0 ? Buffer.alloc(0) : buffer.subarray(0, lastNewline + 1);
    return { text: whole.toString("utf8"), end: start + whole.length };
  } finally {
    closeSync(fd);
  }
}

/** Pairs exits with what followed. Pure: unit-tested on recorded lines. */
export function pairRepairs(
  events: ProcessStateEvent[],
  open: RepairCursor["open"],
): { repairs: Repair[]; open: RepairCursor["open"] } {
  const pending = { ...open };
  const repairs: Repair[] = [];
  for (const e of events) {
    if (e.process === "process-events") continue;
    if (e.state === "EXITED") {
      pending[e.process] = { pid: e.pid, exitedAt: e.at };
    } else if (e.state === "RUNNING" && pending[e.process]) {
      const exit = pending[e.process];
      delete pending[e.process];
      repairs.push({
        process: e.process,
        outcome: "restarted",
        exitedAt: exit?.exitedAt ?? e.at,
        pid: exit?.pid,
        newPid: e.pid,
        at: e.at,
        downMs: Math.max(0, Date.parse(e.at) - Date.parse(exit?.exitedAt ?? e.at)),
      });
    } else if (e.state === "FATAL") {
      const exit = pending[e.process];
      delete pending[e.process];
      repairs.push({
        process: e.process,
        outcome: "gave-up",
        exitedAt: exit?.exitedAt ?? e.at,
        pid: exit?.pid,
        at: e.at,
      });
    } else if (e.state === "STOPPED") {
      // Stopped on purpose (an operation removed or restarted it): not a repair.
      delete pending[e.process];
    }
  }
  return { repairs, open: pending };
}

/** Repairs the supervisor of the environment in `envDir` made since `cursor` (all recorded, without one). */
export function readRepairs(
  envDir: string,
  cursor?: RepairCursor,
): { repairs: Repair[]; cursor: RepairCursor } {
  const file = supervisorPaths(envDir).eventsFile;
  const empty: RepairCursor = cursor ?? { inode: 0, offset: 0, open: {} };
  if (!existsSync(file)) return { repairs: [], cursor: empty };
  const inode = statSync(file).ino;
  let text = "";
  if (cursor && cursor.inode !== inode) {
    // Rotated since: finish the previous generation first, then the new file from its start.
    const previous = `${file}.1`;
    if (existsSync(previous) && statSync(previous).ino === cursor.inode)
      text += readFrom(previous, cursor.offset).text;
  }
  const current = readFrom(file, cursor && cursor.inode === inode ? cursor.offset : 0);
  text += current.text;
  const events: ProcessStateEvent[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      events.push(JSON.parse(line) as ProcessStateEvent);
    } catch {
      // a damaged line: skip it
    }
  }
  const { repairs, open } = pairRepairs(events, cursor?.open ?? {});
  return { repairs, cursor: { inode, offset: current.end, open } };
}
