// supervisord's event listener for the local target: `node supervisor-events.js <events file>`, started
// by each environment's supervisord (see supervisor.ts). It appends every process state change to the file,
// one JSON object a line; `readSelfHealing` (self-healing.ts) turns them into the repairs the portal shows.
//
// The protocol (http://supervisord.org/events.html): write READY, read a header line (`... len:N`) and N
// bytes of payload (`processname:web groupname:web from_state:RUNNING expected:0 pid:123`), append, answer
// `RESULT 2\nOK`, and READY again.
import { appendFileSync, renameSync, statSync } from "node:fs";

/** One line of the events file. */
export interface ProcessStateEvent {
  /** ISO time the listener received it. */
  at: string;
  /** RUNNING, EXITED, BACKOFF, FATAL, STARTING, STOPPING, STOPPED. */
  state: string;
  process: string;
  from?: string;
  pid?: number;
  /** For EXITED: 1 when the exit code was an expected one. */
  expected?: number;
  /** For STARTING and BACKOFF: failed start attempts so far. */
  tries?: number;
}

/** Past this size the file is moved to `<file>.1` (one generation kept), so it never grows without end. */
export const EVENTS_FILE_MAX_BYTES = 1024 * 1024;

export function parseEvent(header: string, payload: string, at: Date): ProcessStateEvent | undefined {
  const eventName = header.match(/eventname:(\S+)/)?.[1] ?? "";
  if (!eventName.startsWith("PROCESS_STATE_")) return undefined;
  const fields = Object.fromEntries(
    payload
      .trim()
      .split(/\s+/)
      .map((kv) => [kv.slice(0, kv.indexOf(":")), kv.slice(kv.indexOf(":") + 1)]),
  );
  const num = (v: string | undefined) => (v === undefined || v === "" ? undefined : Number(v));
  return {
    at: at.toISOString(),
    state: eventName.slice("PROCESS_STATE_".length),
    process: fields.processname ?? "?",
    from: fields.from_state,
    pid: num(fields.pid),
    expected: num(fields.expected),
    tries: num(fields.tries),
  };
}

function append(file: string, event: ProcessStateEvent): void {
  try {
    if (statSync(file).size > EVENTS_FILE_MAX_BYTES) renameSync(file, `${file}.1`);
  } catch {
    // not there yet
  }
  appendFileSync(file, `${JSON.stringify(event)}\n`, { mode: 0o600 });
}

function listen(file: string): void {
  let buffer = Buffer.alloc(0);
  let header: string | undefined;
  let need = 0;
  process.stdout.write("READY\n");
  process.stdin.on("data", (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      if (header === undefined) {
        const nl = buffer.indexOf(10);
        if (nl < 0) return;
        header = buffer.subarray(0, nl).toString("utf8");
        buffer = buffer.subarray(nl + 1);
        need = Number(header.match(/len:(\d+)/)?.[1] ?? 0);
      }
      if (buffer.length < need) return;
      const payload = buffer.subarray(0, need).toString("utf8");
      buffer = buffer.subarray(need);
      try {
        const event = parseEvent(header, payload, new Date());
        if (event) append(file, event);
      } catch (err) {
        process.stderr.write(`could not record an event: ${String(err)}\n`);
      }
      header = undefined;
      // OK whatever happened: a listener answering FAIL gets the same event again, forever.
      process.stdout.write("RESULT 2\nOK");
      process.stdout.write("READY\n");
    }
  });
  process.stdin.on("end", () => process.exit(0));
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write("usage: supervisor-events <events file>\n");
    process.exit(2);
  }
  listen(file);
}
