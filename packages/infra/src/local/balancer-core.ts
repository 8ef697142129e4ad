// Shared by the local target's two load balancers (TCP for Redis, HTTP for the frontends): the config file
// they watch, the backend pool with active health checks, and the status file the provider waits on.
import { readFileSync, renameSync, watchFile, writeFileSync } from "node:fs";

export interface Backend {
  name: string;
  host: string;
  port: number;
}

/** The JSON file a balancer is started with; the provider rewrites it (and sends SIGHUP) to change backends. */
export interface BalancerConfig {
  listenHost: string;
  listenPort: number;
  /** Bumped on every rewrite; echoed in the status file once the new backends have been health-checked. */
  version: number;
  backends: Backend[];
  /** HTTP path for health checks (HTTP balancer); the TCP balancer checks that a connection opens. */
  healthPath?: string;
  healthIntervalMs?: number;
  healthTimeoutMs?: number;
  statusFile: string;
}

export interface BackendStatus extends Backend {
  healthy: boolean;
  /** Why the last check failed. */
  reason?: string;
}

export interface BalancerStatus {
  pid: number;
  version: number;
  listenPort: number;
  backends: BackendStatus[];
  checkedAt: string;
}

export function readConfig(file: string): BalancerConfig {
  return JSON.parse(readFileSync(file, "utf8")) as BalancerConfig;
}

function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2));
  renameSync(tmp, file);
}

type Check = (backend: Backend, timeoutMs: number) => Promise<string | undefined>;

/**
 * The set of backends and their health. Picks healthy backends round-robin; a backend that fails a check or
 * a proxied connection is taken out until a check succeeds again.
 */
export class BackendPool {
  private config: BalancerConfig;
  private health = new Map<string, BackendStatus>();
  private next = 0;
  private timer?: NodeJS.Timeout;
  private checking = false;

  constructor(
    private readonly configFile: string,
    private readonly check: Check,
    private readonly log: (line: string) => void,
  ) {
    this.config = readConfig(configFile);
    this.applyBackends();
  }

  get listenPort(): number {
    return this.config.listenPort;
  }
  get listenHost(): string {
    return this.config.listenHost;
  }
  get healthPath(): string | undefined {
    return this.config.healthPath;
  }

  private key(b: Backend): string {
    return `${b.host}:${b.port}`;
  }

  private applyBackends(): void {
    const fresh = new Map<string, BackendStatus>();
    for (const b of this.config.backends) {
      // Keep what we know about a backend that stays; a new one counts as healthy until its first check.
      const known = this.health.get(this.key(b));
      fresh.set(
        this.key(b),
        known ? { ...b, healthy: known.healthy, reason: known.reason } : { ...b, healthy: true },
      );
    }
    this.health = fresh;
  }

  /** Starts health checks and watches the config file (SIGHUP or a file change reloads it). */
  start(): void {
    const interval = this.config.healthIntervalMs ?? 1000;
    void this.runChecks();
    this.timer = setInterval(() => void this.runChecks(), interval);
    process.on("SIGHUP", () => this.reload("SIGHUP"));
    watchFile(this.configFile, { interval: 500 }, () => this.reload("config file changed"));
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  reload(why: string): void {
    let next: BalancerConfig;
    try {
      next = readConfig(this.configFile);
    } catch (err) {
      this.log(`reload (${why}) failed, keeping the current backends: ${String(err)}`);
      return;
    }
    if (next.version === this.config.version) return;
    this.config = next;
    this.applyBackends();
    this.log(
      `reloaded (${why}): version ${next.version}, backends ${next.backends.map((b) => b.name).join(", ")}`,
    );
    void this.runChecks();
  }

  private async runChecks(): Promise<void> {
    if (this.checking) {
      // A reload during a round: check again right after, so the status reflects the new version.
      setTimeout(() => void this.runChecks(), 50);
      return;
    }
    this.checking = true;
    const version = this.config.version;
    const timeout = this.config.healthTimeoutMs ?? 800;
    try {
      await Promise.all(
        [...this.health.values()].map(async (b) => {
          const reason = await this.check(b, timeout);
          const current = this.health.get(this.key(b));
          if (!current) return; // removed meanwhile
          if (current.healthy !== !reason) {
            this.log(`${b.name} (${this.key(b)}) is ${reason ? `unhealthy: ${reason}` : "healthy"}`);
          }
          current.healthy = !reason;
          current.reason = reason;
        }),
      );
      this.writeStatus(version);
    } finally {
      this.checking = false;
    }
  }

  private writeStatus(version: number): void {
    const status: BalancerStatus = {
      pid: process.pid,
      version,
      listenPort: this.config.listenPort,
      backends: [...this.health.values()],
      checkedAt: new Date().toISOString(),
    };
    try {
      writeJsonAtomic(this.config.statusFile, status);
    } catch (err) {
      this.log(`could not write status: ${String(err)}`);
    }
  }

  /** Healthy backends in round-robin order starting at the next one, for one request's attempts. */
  candidates(): BackendStatus[] {
    const all = [...this.health.values()];
    const healthy = all.filter((b) => b.healthy);
    if (healthy.length === 0) return [];
    const start = this.next++ % healthy.length;
    return [...healthy.slice(start), ...healthy.slice(0, start)];
  }

  /** A proxied connection failed: take the backend out until a health check passes again. */
  markDown(b: Backend, reason: string): void {
    const current = this.health.get(this.key(b));
    if (current?.healthy) {
      current.healthy = false;
      current.reason = reason;
      this.log(`${b.name} (${this.key(b)}) taken out: ${reason}`);
    }
  }
}

/** Shared process plumbing: log lines with a timestamp, graceful stop on SIGTERM/SIGINT. */
export function runBalancer(name: string, start: (configFile: string) => { close(): Promise<void> }): void {
  const configFile = process.argv[2];
  if (!configFile) {
    process.stderr.write(`usage: ${name} <config.json>\n`);
    process.exit(2);
  }
  const server = start(configFile);
  const stop = () => {
    const force = setTimeout(() => process.exit(0), 2000);
    force.unref();
    void server.close().then(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

export function logLine(name: string): (line: string) => void {
  return (line) => process.stdout.write(`${new Date().toISOString()} ${name}: ${line}\n`);
}
