import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PulumiCommand } from "@pulumi/pulumi/automation";
import { EnvironmentOperationError } from "./errors";

/** The SDK version this package runs; the CLI must be at least as new. */
export function sdkVersion(): string {
  return require("@pulumi/pulumi/package.json").version as string;
}

/** Where scripts/ensure-pulumi-cli.sh puts the CLI: the folder above `bin/pulumi`. */
export function defaultCliRoot(): string {
  return path.join(os.homedir(), ".pulumi", "versions", sdkVersion());
}

/** -1, 0 or 1 comparing the numeric major.minor.patch of two versions. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => v.replace(/^v/, "").split(/[.-]/).slice(0, 3).map(Number);
  const [x, y] = [parse(a), parse(b)];
  for (let i = 0; i < 3; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0 && !Number.isNaN(d)) return d > 0 ? 1 : -1;
  }
  return 0;
}

const cache = new Map<string, Promise<PulumiCommand>>();

/**
 * Finds the Pulumi CLI: `cliRoot` (or PULUMI_CLI_ROOT), else `~/.pulumi/versions/<sdk>/`, else `pulumi` on
 * PATH. The version check is the Automation API's own (at least its minimum). Cached per root.
 */
export function resolvePulumiCommand(cliRoot?: string): Promise<PulumiCommand> {
  const explicit = cliRoot ?? process.env.PULUMI_CLI_ROOT;
  const root =
    explicit ?? (existsSync(path.join(defaultCliRoot(), "bin", "pulumi")) ? defaultCliRoot() : undefined);
  const key = root ?? "<PATH>";
  let found = cache.get(key);
  if (!found) {
    found = PulumiCommand.get(root ? { root } : undefined)
      .then((command) => {
        // At least the SDK's own version: the Automation API alone accepts far older CLIs.
        const have = command.version?.version ?? "";
        if (compareVersions(have, sdkVersion()) < 0) {
          throw new Error(
            `Minimum version requirement failed. The minimum CLI version requirement is ${sdkVersion()}, your current CLI version is ${have || "unknown"}.`,
          );
        }
        return command;
      })
      .catch((err: unknown) => {
        cache.delete(key);
        throw cliError(err, root ? path.join(root, "bin", "pulumi") : "pulumi on PATH");
      });
    cache.set(key, found);
  }
  return found;
}

const GET_A_CLI = "run `npm run pulumi-cli -w @platform/infra` for one that is";

/** Why a CLI cannot be used, in words that say what to do. */
function cliError(err: unknown, where: string): unknown {
  const message = err instanceof Error ? err.message : String(err);
  const fail = (code: "cli-missing" | "cli-too-old", text: string) =>
    new EnvironmentOperationError(code, text, message, { cause: err });
  if (/ENOENT|not found/i.test(message)) {
    return fail("cli-missing", `the Pulumi CLI was not found (${where}): ${GET_A_CLI}`);
  }
  if (/Failed to parse Pulumi CLI version/.test(message)) {
    return fail(
      "cli-too-old",
      `the Pulumi CLI (${where}) prints no version (a build without its version stamped?); it must be ${sdkVersion()} or newer: ${GET_A_CLI}`,
    );
  }
  if (/Minimum version requirement failed|Major version mismatch/.test(message)) {
    const have = message.match(/your current CLI version is (\S+?)\.?(\s|$)/)?.[1] ?? "unknown";
    return fail(
      "cli-too-old",
      `the Pulumi CLI (${where}) is version ${have}, older than ${sdkVersion()} (the SDK's): ${GET_A_CLI}`,
    );
  }
  return err;
}
