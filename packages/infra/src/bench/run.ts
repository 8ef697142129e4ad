// Benchmark of the environment operations on the local target, with the real CLI and PostgreSQL state:
//   npm run bench -w @platform/infra            (BENCH_RUNS=5 by default)
// Times create (2 frontends, 2 Redis), scale (frontends 2→4, Redis 2→1) and destroy, median of the runs,
// and the wrapper's overhead over a plain Automation API `up` of the same inline program on the same
// backend (a bare LocalWorkspace without recovery, events, mutex or temp-folder cleanup).
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { createEnvironmentOperations, PROJECT_NAME } from "../operations/create-operations";
import { programForTarget } from "../operations/program-for-target";
import { resolvePulumiCommand } from "../operations/pulumi-cli";
import { reapOrphans } from "../operations/recovery";
import type { EnvironmentSpec } from "../operations/types";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TARGETS_MS = { create: 15_000, scale: 8_000, destroy: 8_000 };

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "infra-bench-"));
  chmodSync(tmp, 0o755); // the embedded PostgreSQL runs as `postgres` when we are root
  let stopPostgres = async () => {};
  let backendUrl = process.env.BENCH_BACKEND_URL;
  if (!backendUrl) {
    const { startEmbeddedPostgres } = await import("@platform/db/embedded-postgres");
    const pg = await startEmbeddedPostgres({ dataDir: path.join(tmp, "pg") });
    backendUrl = `${await pg.database("bench")}?sslmode=disable&table=pulumi_state`;
    stopPostgres = () => pg.stop();
  }
  const dataDir = path.join(tmp, "data");
  mkdirSync(dataDir, { recursive: true });
  const votingAppMain =
    process.env.VOTING_APP_MAIN ?? path.resolve(__dirname, "..", "..", "..", "voting-app", "dist", "main.js");
  if (!existsSync(votingAppMain)) throw new Error(`build the voting app first: ${votingAppMain} is missing`);
  const passphrase = "bench-passphrase";
  const ops = createEnvironmentOperations({ backendUrl, dataDir, votingAppMain, passphrase });
  const spec = (name: string, frontendReplicas: number, redisReplicas: number): EnvironmentSpec => ({
    name,
    target: "local",
    frontendReplicas,
    redisReplicas,
  });

  const times = { create: [] as number[], scale: [] as number[], destroy: [] as number[] };
  const overhead = { wrapper: [] as number[], bare: [] as number[] };
  const timed = async (fn: () => Promise<unknown>) => {
    const t = performance.now();
    await fn();
    return performance.now() - t;
  };

  // The bare baseline: the same inline program through a plain LocalWorkspace and `up`.
  const pulumiCommand = await resolvePulumiCommand();
  const bareUp = async (name: string) => {
    const workDir = mkdtempSync(path.join(tmp, "bare-"));
    const stack = await LocalWorkspace.createOrSelectStack(
      {
        stackName: name,
        projectName: PROJECT_NAME,
        program: programForTarget(spec(name, 2, 2), {
          dataDir,
          votingAppMain,
          redisPassword: "bench-redis-password",
          databasePassword: "bench-database-password",
        }).program,
      },
      {
        workDir,
        pulumiCommand,
        projectSettings: { name: PROJECT_NAME, runtime: "nodejs", backend: { url: backendUrl } },
        envVars: {
          PULUMI_SKIP_UPDATE_CHECK: "true",
          PULUMI_CONFIG_PASSPHRASE: passphrase,
          PULUMI_BACKEND_URL: backendUrl,
          PULUMI_HOME: path.join(dataDir, "pulumi-home"),
          NODE_PATH: path.resolve(require.resolve("@pulumi/pulumi/package.json"), "..", "..", ".."),
        },
      },
    );
    await stack.up();
  };

  try {
    for (let run = 1; run <= RUNS; run++) {
      const name = `bench-${run}`;
      times.create.push(await timed(() => ops.up(spec(name, 2, 2))));
      times.scale.push(await timed(() => ops.up(spec(name, 4, 1))));
      times.destroy.push(await timed(() => ops.destroy({ name, target: "local" })));

      // Overhead: the same create, through the wrapper and bare, alternating which goes first.
      const order = run % 2 ? (["wrapper", "bare"] as const) : (["bare", "wrapper"] as const);
      for (const who of order) {
        const env = `ovh-${who}-${run}`;
        const ms =
          who === "wrapper" ? await timed(() => ops.up(spec(env, 2, 2))) : await timed(() => bareUp(env));
        overhead[who].push(ms);
        await ops.destroy({ name: env, target: "local" });
      }
      process.stderr.write(
        `run ${run}/${RUNS}: create ${secs(times.create.at(-1) ?? 0)}, scale ${secs(times.scale.at(-1) ?? 0)}, destroy ${secs(times.destroy.at(-1) ?? 0)}, wrapper ${secs(overhead.wrapper.at(-1) ?? 0)} vs bare ${secs(overhead.bare.at(-1) ?? 0)}\n`,
      );
    }
  } finally {
    // A run that failed half-way leaves its environments' processes (they outlive the CLI): stop them all.
    for (const name of existsSync(dataDir) ? readdirSync(dataDir) : []) {
      await reapOrphans(path.join(dataDir, name), undefined, () => {});
    }
    await ops.close();
    await stopPostgres();
    rmSync(tmp, { recursive: true, force: true });
  }

  const rows = (["create", "scale", "destroy"] as const).map((k) => {
    const m = median(times[k]);
    return `| ${k} | ${secs(m)} | ${secs(Math.min(...times[k]))} – ${secs(Math.max(...times[k]))} | ≤ ${secs(TARGETS_MS[k])} | ${m <= TARGETS_MS[k] ? "met" : "MISSED"} |`;
  });
  const w = median(overhead.wrapper);
  const b = median(overhead.bare);
  const pct = ((w - b) / b) * 100;
  const report = [
    `Local target, ${RUNS} runs, ${os.cpus().length} CPUs, Node ${process.version}, PostgreSQL state`,
    "",
    "| operation | median | range | target | |",
    "|---|---|---|---|---|",
    ...rows,
    `| wrapper overhead (create: wrapper ${secs(w)} vs bare Automation API ${secs(b)}) | ${pct.toFixed(1)} % | | ≤ 10 % | ${pct <= 10 ? "met" : "MISSED"} |`,
  ].join("\n");
  process.stdout.write(`${report}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
