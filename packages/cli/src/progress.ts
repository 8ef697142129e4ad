// How a waiting command shows an operation: on a terminal, a progress bar on the last line with the live log
// scrolling above it; elsewhere (CI logs, pipes), plain lines — each log line, and the progress when it changes.
export interface ProgressView {
  log(line: string): void;
  progress(done: number, expected: number, status: string): void;
  /** Clears the bar (before the final result is printed). */
  finish(): void;
}

const BAR_WIDTH = 30;

export function bar(done: number, expected: number): string {
  if (expected <= 0) return `[${"·".repeat(BAR_WIDTH)}]`;
  const filled = Math.min(BAR_WIDTH, Math.round((done / expected) * BAR_WIDTH));
  return `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}]`;
}

export function terminalView(out: NodeJS.WriteStream, label: string): ProgressView {
  let current = "";
  const draw = () => out.write(`\r\x1b[2K${current}`);
  return {
    log(line) {
      out.write(`\r\x1b[2K${line}\n`);
      if (current) draw();
    },
    progress(done, expected, status) {
      const pct = expected > 0 ? ` ${Math.min(100, Math.round((done / expected) * 100))}%` : "";
      const steps = expected > 0 ? ` ${done}/${expected} steps` : "";
      current = `${label} ${bar(done, expected)}${pct}${steps} ${status}`.slice(
        0,
        (out.columns && out.columns > 20 ? out.columns : 100) - 1,
      );
      draw();
    },
    finish() {
      if (current) out.write("\r\x1b[2K");
      current = "";
    },
  };
}

export function plainView(out: NodeJS.WritableStream, label: string): ProgressView {
  let last = "";
  return {
    log(line) {
      out.write(`${line}\n`);
    },
    progress(done, expected, status) {
      const text = `${label}: ${status}${expected > 0 ? ` (${done}/${expected} steps)` : ""}`;
      if (text !== last) out.write(`${text}\n`);
      last = text;
    },
    finish() {},
  };
}

/** The view for a stream: a bar on a terminal, plain lines otherwise. */
export const viewFor = (out: NodeJS.WriteStream, label: string): ProgressView =>
  out.isTTY ? terminalView(out, label) : plainView(out, label);
