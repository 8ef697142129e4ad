import { EnvironmentOperationError } from "./errors";

/**
 * One operation per environment at a time within this process. A second call is refused with
 * `concurrent-operation` rather than queued: the portal's queue already serialises per environment, and a
 * silent wait would hide a bug there. (Across processes, the state backend's stack lock does the same.)
 */
export class EnvironmentMutex {
  private running = new Map<string, string>();

  async run<T>(environment: string, kind: string, fn: () => Promise<T>): Promise<T> {
    const current = this.running.get(environment);
    if (current) {
      throw new EnvironmentOperationError(
        "concurrent-operation",
        `a ${current} of ${environment} is already running; try again when it has finished`,
      );
    }
    this.running.set(environment, kind);
    try {
      return await fn();
    } finally {
      this.running.delete(environment);
    }
  }

  isRunning(environment: string): boolean {
    return this.running.has(environment);
  }
}
