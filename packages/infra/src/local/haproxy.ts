// The local target's load balancers are HAProxy (Debian's `haproxy`, 2.6): the public HTTP one in front of
// the frontends (like the ALB) and a TCP one per Redis endpoint (like the NLB's listeners). This module
// writes their configuration and reads their runtime state through the stats socket. Imports only node
// builtins (it runs inside the Pulumi provider plugin).
import { createConnection } from "node:net";

export interface Backend {
  name: string;
  host: string;
  port: number;
}

export interface BalancerConfig {
  mode: "http" | "tcp";
  listenHost: string;
  listenPort: number;
  backends: Backend[];
  /** Stats socket (admin level, mode 0600): the provider reads the applied version and server states. */
  statsSocket: string;
  /** Written as the process's `description`: the provider waits for it after a reload. */
  version: number;
  /** http: the liveness path checked on each frontend (`GET <path>` must answer 2xx). */
  healthPath?: string;
  /** tcp: Redis's password; with it the check is AUTH + PING (+ the role for the writer), else a connect. */
  redisPassword?: string;
  /** tcp: only send to a Redis that says `role:master` (the writer endpoint). */
  redisRole?: "master";
}

/** HAProxy words cannot hold spaces or quotes: names are resource names, checked anyway. */
function word(value: string, what: string): string {
  if (!/^[A-Za-z0-9._:/@-]+$/.test(value))
    throw new Error(`${what} "${value}" cannot go into a HAProxy config`);
  return value;
}

/**
 * Health checks every second; a frontend that refuses a connection during a request is marked down at once
 * (`observe layer4`) and the request goes to another one (`retries` + `redispatch`; beyond connection failures
 * only idempotent requests are retried, so a POST is never sent twice). A restarted one is back after one
 * passing check.
 */
export function renderHaproxyConfig(c: BalancerConfig): string {
  const serverLines = c.backends.map(
    (b) => `  server ${word(b.name, "backend name")} ${word(b.host, "backend host")}:${Number(b.port)}`,
  );
  const global = [
    "# Written by the local target's provider; reloaded with SIGUSR2 (master-worker mode).",
    "global",
    `  stats socket ${word(c.statsSocket, "stats socket")} mode 600 level admin`,
    `  description ${c.version}`,
    // Connections of the previous worker (long-lived Redis clients) end this long after a reload.
    "  hard-stop-after 10s",
    "  maxconn 4096",
    "",
  ];
  if (c.mode === "http") {
    const health = c.healthPath ?? "/healthz";
    if (!/^\/[A-Za-z0-9._~/-]*$/.test(health)) throw new Error(`health path "${health}" is not a plain path`);
    return [
      ...global,
      "defaults",
      "  mode http",
      "  timeout connect 1s",
      "  timeout client 60s",
      "  timeout server 60s",
      "  timeout http-request 10s",
      // Longer than clients keep idle connections (browsers, Node's fetch: a few seconds), as an ALB's 60 s
      // idle timeout is: a client must never send a request on a connection the balancer is closing.
      "  timeout http-keep-alive 60s",
      "  timeout queue 5s",
      "  timeout check 800ms",
      "  retries 3",
      "  option redispatch 1",
      // Retried on another frontend: a refused connection (any request: nothing was sent), and for what is
      // safe to repeat also a connection closed without an answer (a frontend killed mid-request). A vote
      // (POST) is never sent twice.
      "  retry-on conn-failure empty-response response-timeout",
      "  option forwardfor",
      "",
      "frontend web",
      `  bind ${word(c.listenHost, "listen host")}:${Number(c.listenPort)}`,
      "  http-request set-header X-Forwarded-Proto http",
      "  http-request disable-l7-retry unless METH_GET || METH_OPTIONS",
      "  default_backend frontends",
      "",
      "backend frontends",
      "  balance roundrobin",
      `  option httpchk GET ${health}`,
      "  http-check expect status 200-299",
      "  default-server check inter 1s fastinter 500ms downinter 1s rise 1 fall 2 observe layer4 error-limit 1 on-error mark-down",
      ...serverLines,
      "",
    ].join("\n");
  }
  const checks: string[] = ["  option tcp-check", "  tcp-check connect"];
  if (c.redisPassword !== undefined) {
    word(c.redisPassword, "Redis password");
    checks.push(
      `  tcp-check send AUTH\\ ${c.redisPassword}\\r\\n`,
      "  tcp-check expect string +OK",
      "  tcp-check send PING\\r\\n",
      "  tcp-check expect string +PONG",
    );
    if (c.redisRole === "master") {
      checks.push("  tcp-check send INFO\\ replication\\r\\n", "  tcp-check expect string role:master");
    }
    checks.push("  tcp-check send QUIT\\r\\n", "  tcp-check expect string +OK");
  }
  return [
    ...global,
    "defaults",
    "  mode tcp",
    "  timeout connect 1s",
    // Redis clients keep idle connections open; the app reconnects by itself when one is closed.
    "  timeout client 1h",
    "  timeout server 1h",
    "  timeout check 800ms",
    "  retries 2",
    "  option redispatch 1",
    "",
    "frontend redis",
    `  bind ${word(c.listenHost, "listen host")}:${Number(c.listenPort)}`,
    "  default_backend redis",
    "",
    "backend redis",
    "  balance roundrobin",
    ...checks,
    "  default-server check inter 1s fastinter 500ms downinter 1s rise 1 fall 1 observe layer4 error-limit 1 on-error mark-down",
    ...serverLines,
    "",
  ].join("\n");
}

/** Sends one command to a HAProxy stats socket and returns the answer ("" when it does not answer). */
export function statsCommand(socket: string, command: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve) => {
    let answer = "";
    const conn = createConnection(socket, () => conn.end(`${command}\n`));
    conn.setTimeout(timeoutMs, () => conn.destroy());
    conn.on("data", (d) => {
      answer += d.toString("utf8");
    });
    conn.on("close", () => resolve(answer));
    conn.on("error", () => resolve(""));
  });
}

export interface ServerState {
  backend: string;
  name: string;
  /** UP, DOWN, MAINT, "UP 1/2" (going down), "DOWN 1/2" (coming up), or "no check". */
  status: string;
  /** L4OK, L7OK, L4CON, L7STS, …; "" or INI before the first check. */
  checkStatus: string;
  address: string;
}

/** The applied config version (the `description`) and each server's state, from `show info` and `show stat`. */
export async function balancerState(
  socket: string,
): Promise<{ version?: number; servers: ServerState[] } | undefined> {
  const info = await statsCommand(socket, "show info");
  if (!info) return undefined;
  const version = Number(info.match(/^description: (\d+)$/m)?.[1]) || undefined;
  const stat = await statsCommand(socket, "show stat");
  const lines = stat.split("\n").filter(Boolean);
  const head = (lines[0] ?? "").replace(/^# /, "").split(",");
  const col = (name: string) => head.indexOf(name);
  const servers: ServerState[] = [];
  for (const line of lines.slice(1)) {
    const f = line.split(",");
    const name = f[col("svname")] ?? "";
    if (name === "FRONTEND" || name === "BACKEND") continue;
    servers.push({
      backend: f[col("pxname")] ?? "",
      name,
      status: f[col("status")] ?? "",
      checkStatus: (f[col("check_status")] ?? "").replace(/^\* /, ""),
      address: f[col("addr")] ?? "",
    });
  }
  return { version, servers };
}
