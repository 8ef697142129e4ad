import { EnvironmentOperationError } from "./errors";

/**
 * One operation per environment at a time within this process. A second call is refused with
 * `concurrent-operation` rather than queued: the portal's queue already serialises per environment, and a
 * silent wait would hide a bug there. (Across processes, the state backend's stack lock does the same.)
 */
export class EnvironmentMutex {
  private running = new Map<string, string>();

  /** `key` identifies the stack (project and stack name); `label` names it in the message. */
  async run<T>(key: string, kind: string, fn: () => Promise<T>, label = key): Promise<T> {
    const current = this.running.get(key);
    if (current) {
      throw new EnvironmentOperationError(
        "concurrent-operation",
        `a ${current} of ${label} is already running; try again when it has finished`,
      );
    }
    this.running.set(key, kind);
    try {
      return await fn();
    } finally {
      this.running.delete(key);
    }
  }

  isRunning(environment: string): boolean {
    return this.running.has(environment);
  }
}
