// scripts/ensure-pulumi-cli.sh, run for real in a temporary HOME: each way it finds or provides a CLI, the
// plugin placed beside it, and what it leaves behind. The stand-in CLIs are tiny shell scripts that print a
// version (all the script asks of a CLI); the Go build is the real one.
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const script = path.resolve(__dirname, "../../scripts/ensure-pulumi-cli.sh");
const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
const sdkVersion: string = require("@pulumi/pulumi/package.json").version;
const shippedPlugin = readFileSync(path.join(sdkDir, "pulumi-resource-pulumi-nodejs"));
/** node, bash, coreutils, curl; neither go nor any pulumi. */
const basePath = [path.dirname(process.execPath), "/usr/bin", "/bin"].join(path.delimiter);

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "infra-cli-script-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A fresh HOME and temp folder per case. */
function sandbox(name: string) {
  const dir = path.join(tmp, name);
  const home = path.join(dir, "home");
  const tmpdir = path.join(dir, "tmp");
  mkdirSync(home, { recursive: true });
  mkdirSync(tmpdir, { recursive: true });
  return { dir, home, tmpdir, versionsBin: path.join(home, ".pulumi", "versions", sdkVersion, "bin") };
}

function fakeCli(dir: string, version: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "pulumi");
  writeFileSync(file, `#!/bin/sh\n[ "$1" = version ] && echo ${version}\n`);
  chmodSync(file, 0o755);
  return file;
}

function run(env: Record<string, string>) {
  const r = spawnSync("bash", [script], {
    env: { PULUMI_CLI_SKIP_OFFICIAL: "1", ...env },
    encoding: "utf8",
    timeout: 20 * 60_000,
  });
  return { code: r.status, lastLine: r.stdout.trim().split("\n").at(-1) ?? "", stderr: r.stderr };
}

function expectPluginBeside(bin: string) {
  const plugin = path.join(bin, "pulumi-resource-pulumi-nodejs");
  expect(readFileSync(plugin).equals(shippedPlugin)).toBe(true);
  expect(statSync(plugin).mode & 0o777).toBe(0o755);
}

describe("ensure-pulumi-cli.sh", () => {
  it("uses a recent enough CLI on PATH: links it into ~/.pulumi/versions/<sdk>/bin with the plugin beside it", () => {
    const s = sandbox("on-path");
    const onPath = fakeCli(path.join(s.dir, "path-bin"), "v3.274.1");
    const r = run({ HOME: s.home, TMPDIR: s.tmpdir, PATH: `${path.dirname(onPath)}:${basePath}` });
    expect(r.code, r.stderr).toBe(0);
    expect(r.lastLine).toBe(s.versionsBin);
    expect(readlinkSync(path.join(s.versionsBin, "pulumi"))).toBe(onPath);
    expectPluginBeside(s.versionsBin);
    expect(readdirSync(s.tmpdir)).toEqual([]);
  });

  it("prefers the CLI in ~/.pulumi/versions/<sdk>/bin, and ignores one on PATH older than the SDK", () => {
    const s = sandbox("versions-dir");
    const old = fakeCli(path.join(s.dir, "path-bin"), "v3.100.0");
    const kept = fakeCli(s.versionsBin, `v${sdkVersion}`);
    const r = run({ HOME: s.home, TMPDIR: s.tmpdir, PATH: `${path.dirname(old)}:${basePath}` });
    expect(r.code, r.stderr).toBe(0);
    expect(r.lastLine).toBe(s.versionsBin);
    expect(lstatSync(kept).isSymbolicLink()).toBe(false);
    expect(r.stderr).toContain(`using ${kept} (v${sdkVersion})`);
    expectPluginBeside(s.versionsBin);
  });

  it("fails with a clear message when no usable CLI exists, the installer is skipped and Go is missing", () => {
    const s = sandbox("nothing");
    const old = fakeCli(path.join(s.dir, "path-bin"), "v3.100.0");
    const unversioned = fakeCli(s.versionsBin, "");
    const r = run({ HOME: s.home, TMPDIR: s.tmpdir, PATH: `${path.dirname(old)}:${basePath}` });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no usable pulumi CLI");
    expect(r.stderr).toContain("Go is not installed");
    expect(readFileSync(unversioned, "utf8")).toContain("echo"); // left as it was
    expect(readdirSync(s.tmpdir)).toEqual([]);
  });

  it("in quick mode (npm install) builds nothing: says how to get a CLI and succeeds", () => {
    const s = sandbox("quick");
    const r = run({ HOME: s.home, TMPDIR: s.tmpdir, PATH: basePath, PULUMI_CLI_QUICK: "1" });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("no usable pulumi CLI yet");
    expect(existsSync(s.versionsBin)).toBe(false);
    expect(readdirSync(s.tmpdir)).toEqual([]);
  });

  const goBin = path.dirname(spawnSync("bash", ["-c", "command -v go"], { encoding: "utf8" }).stdout.trim());
  /** The script with Go on PATH and no CLI anywhere, into a fresh root; the real HOME for Go's caches. */
  function goBuild(name: string, env: Record<string, string> = {}) {
    const s = sandbox(name);
    const root = path.join(s.dir, "cli");
    const r = run({
      HOME: os.homedir(),
      TMPDIR: s.tmpdir,
      PULUMI_CLI_ROOT: root,
      PATH: `${goBin}:${basePath}`,
      ...env,
    });
    return { s, root, r };
  }

  it.skipIf(goBin === ".")(
    "says which Go modules it could not get, and leaves no partial CLI or temp files",
    () => {
      // pkg/v3 v3.270.0 is not served by the module proxy (see the toolchain notes).
      const { s, root, r } = goBuild("go-missing-version", { PULUMI_CLI_BUILD_VERSION: "v3.270.0" });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("could not get pulumi v3.270.0's Go modules");
      expect(readdirSync(path.join(root, "bin"))).toEqual([".ensure.lock"]);
      expect(readdirSync(s.tmpdir)).toEqual([]);
    },
    120_000,
  );

  // The Go path for real. A cold build takes 10-25 minutes on 2 cores, so it runs where the pulumi modules
  // are in the Go module cache already (a machine that built the CLI this way: its build cache is warm).
  const goCache = spawnSync("go", ["env", "GOMODCACHE"], { encoding: "utf8" }).stdout?.trim();
  const warm = !!goCache && existsSync(path.join(goCache, "github.com/pulumi/pulumi/pkg/v3@v3.274.1"));
  it.skipIf(goBin === "." || !warm)(
    "builds the CLI from the Go modules: static, version stamped, release tags, plugin beside, no temp files left",
    () => {
      const { s, root, r } = goBuild("go-build");
      expect(r.code, r.stderr).toBe(0);
      const bin = path.join(root, "bin");
      expect(r.lastLine).toBe(bin);
      const cli = path.join(bin, "pulumi");
      expect(spawnSync(cli, ["version"], { encoding: "utf8" }).stdout.trim()).toBe("v3.274.1");
      const info = spawnSync("go", ["version", "-m", cli], { encoding: "utf8" }).stdout;
      expect(info).toContain("build\tCGO_ENABLED=0");
      expect(info).toContain("build\t-tags=osusergo,grpcnotrace");
      expect(info).toMatch(
        /-X github\.com\/pulumi\/pulumi\/sdk\/v3\/go\/common\/version\.Version=v3\.274\.1/,
      );
      // Statically linked: no program interpreter (ld-linux) named in the ELF header.
      expect(readFileSync(cli).subarray(0, 4096).includes("ld-linux")).toBe(false);
      expectPluginBeside(bin);
      expect(readdirSync(bin).sort()).toEqual([".ensure.lock", "pulumi", "pulumi-resource-pulumi-nodejs"]);
      expect(readdirSync(s.tmpdir)).toEqual([]);
    },
    20 * 60_000,
  );
});
