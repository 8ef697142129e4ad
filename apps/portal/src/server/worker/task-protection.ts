// ECS task scale-in protection for a worker running on ECS: while it runs operations, the worker asks its ECS
// agent to protect its task, so the service's autoscaling never stops it mid-operation (which would leave a
// Pulumi run interrupted); when it is idle again, it lifts the protection. Outside ECS (no ECS_AGENT_URI) it does
// nothing. https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-scale-in-protection-endpoint.html
export interface TaskProtectionOptions {
  /** The agent's endpoint (ECS sets ECS_AGENT_URI in every task). */
  agentUri: string;
  /** How long a protection lasts unless renewed (the agent's maximum is 2,880 minutes). */
  expiresInMinutes?: number;
  log?: (line: string) => void;
}

export class TaskProtection {
  private protectedNow = false;
  private pending: Promise<void> = Promise.resolve();
  private renewTimer?: NodeJS.Timeout;
  private readonly expires: number;

  constructor(private readonly o: TaskProtectionOptions) {
    this.expires = o.expiresInMinutes ?? 120;
  }

  /** Called with the number of operations running now: protects when > 0, unprotects at 0. */
  busy(active: number): Promise<void> {
    const want = active > 0;
    this.pending = this.pending.then(() => (want === this.protectedNow ? undefined : this.set(want)));
    return this.pending;
  }

  private async set(enabled: boolean): Promise<void> {
    try {
      const response = await fetch(`${this.o.agentUri}/task-protection/v1/state`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(
          enabled
            ? { ProtectionEnabled: true, ExpiresInMinutes: this.expires }
            : { ProtectionEnabled: false },
        ),
        signal: AbortSignal.timeout(5000),
      });
      if (!response.ok)
        throw new Error(`the ECS agent answered ${response.status}: ${await response.text()}`);
      this.protectedNow = enabled;
      clearInterval(this.renewTimer);
      // A long operation outlives one protection period: renew it halfway.
      if (enabled) {
        this.renewTimer = setInterval(
          () => void this.set(true).catch(() => {}),
          (this.expires * 60_000) / 2,
        ).unref();
      }
      this.o.log?.(`task scale-in protection ${enabled ? "on" : "off"}`);
    } catch (e) {
      // Never fail an operation for it: without protection a scale-in may interrupt it, which the reaper handles.
      this.o.log?.(`could not set task scale-in protection: ${e instanceof Error ? e.message : e}`);
    }
  }

  stop(): void {
    clearInterval(this.renewTimer);
  }
}
