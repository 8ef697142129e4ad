#!/usr/bin/env node
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { freePort, startRedisServer } from "../dev/redis-server.js";

/**
 * Benchmark: one app process (as deployed: `node dist/main.js`, info-level JSON logs) against a real
 * redis-server, driven by autocannon. Prints requests/s and p50/p99 for POST /api/votes and
 * GET /api/results, then checks that a fixed batch of votes is counted exactly (timed runs stop with
 * requests in flight, so their tallies cannot be compared exactly).
 *
 * Env: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (default 50), BENCH_STRICT=1 exits 1 when the
 * target (>= 8000 votes/s, p99 <= 25 ms) is missed.
 */
const BATCH = 20_000;
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const TARGET_RPS = 8000;
const TARGET_P99_MS = 25;

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  bad: number;
}

async function main(): Promise<void> {
  const redis = await startRedisServer();
  const port = await freePort();
  const mainJs = fileURLToPath(new URL("../main.js", import.meta.url));
  const app = spawn(process.execPath, [mainJs], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      REDIS_HOST: redis.host,
      REDIS_PORT: String(redis.port),
      REPLICA_NAME: "bench",
      NODE_ENV: "production",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(url, app);
    console.log(
      `voting-app bench: ${CONNECTIONS} connections, ${DURATION}s per scenario, node ${process.version}`,
    );

    const voteRequests: autocannon.Request[] = ["Cats", "Dogs"].map((option) => ({
      method: "POST",
      path: "/api/votes",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ option }),
    }));
    await run("warm-up", `${url}/api/votes`, voteRequests, Math.min(3, DURATION));
    const votes = await run("POST /api/votes", `${url}/api/votes`, voteRequests, DURATION);
    const results = await run("GET /api/results", `${url}/api/results`, [{ method: "GET" }], DURATION);

    // Exactness: reset, send a fixed number of votes, compare with what Redis counted.
    await fetch(`${url}/api/votes`, { method: "DELETE" });
    const batch = await autocannon({
      url: `${url}/api/votes`,
      connections: CONNECTIONS,
      amount: BATCH,
      requests: voteRequests,
    });
    const tally = (await (await fetch(`${url}/api/results`)).json()) as { total: number };
    const expected = batch["2xx"];
    console.log("");
    console.log(table([votes, results]));
    console.log("");
    console.log(
      `exactness: ${batch.requests.sent} votes sent, ${expected} answered 201, ${tally.total} counted in Redis ${tally.total === expected && expected === BATCH ? "(exact)" : "(MISMATCH)"}`,
    );
    const met = votes.rps >= TARGET_RPS && votes.p99 <= TARGET_P99_MS;
    console.log(
      `target (>= ${TARGET_RPS} votes/s, p99 <= ${TARGET_P99_MS} ms): ${met ? "met" : "MISSED"} — ${Math.round(votes.rps)} votes/s, p99 ${votes.p99} ms`,
    );
    if (tally.total !== expected || expected !== BATCH || votes.bad > 0 || results.bad > 0)
      process.exitCode = 1;
    if (!met && process.env.BENCH_STRICT === "1") process.exitCode = 1;
  } finally {
    app.kill("SIGTERM");
    await new Promise((resolve) => app.once("exit", resolve));
    await redis.stop();
  }
}

async function run(
  name: string,
  url: string,
  requests: autocannon.Request[],
  duration: number,
): Promise<Row> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration, requests });
  return {
    name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result["2xx"],
    bad: result.non2xx + result.errors + result.timeouts,
  };
}

function table(rows: Row[]): string {
  const head = ["scenario", "req/s", "p50 ms", "p99 ms", "2xx", "errors/non-2xx"];
  const body = rows.map((r) => [
    r.name,
    Math.round(r.rps).toString(),
    String(r.p50),
    String(r.p99),
    String(r.ok),
    String(r.bad),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  return [line(head), ...body.map(line)].join("\n");
}

async function waitReady(url: string, app: ChildProcess): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (app.exitCode !== null) throw new Error(`app exited with ${app.exitCode}`);
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("app did not become ready within 15 s");
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
