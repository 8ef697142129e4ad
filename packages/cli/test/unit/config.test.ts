// Where envctl keeps its login: XDG_CONFIG_HOME (else ~/.config)/envctl/config.json, 0600 in a 0700 folder;
// ENVCTL_URL and ENVCTL_TOKEN take precedence; no login is bad input (exit 2).
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  configDir,
  configFile,
  normaliseUrl,
  readStoredConfig,
  removeStoredConfig,
  resolveConnection,
  writeStoredConfig,
} from "../../src/config.js";
import { CliError, EXIT } from "../../src/errors.js";

const dirs: string[] = [];
const tempEnv = (): NodeJS.ProcessEnv => {
  const dir = mkdtempSync(path.join(tmpdir(), "envctl-config-"));
  dirs.push(dir);
  return { XDG_CONFIG_HOME: path.join(dir, "xdg") };
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("envctl's config file", () => {
  it("lives under XDG_CONFIG_HOME, else ~/.config (a relative XDG_CONFIG_HOME is ignored, per the spec)", () => {
    expect(configDir({ XDG_CONFIG_HOME: "/x/y" })).toBe("/x/y/envctl");
    expect(configDir({})).toBe(path.join(homedir(), ".config", "envctl"));
    expect(configDir({ XDG_CONFIG_HOME: "relative/dir" })).toBe(path.join(homedir(), ".config", "envctl"));
  });

  it("is written with mode 0600 in a 0700 folder, and read back", () => {
    const env = tempEnv();
    const file = writeStoredConfig({ url: "https://portal.example.com", token: "envp_x" }, env);
    expect(file).toBe(configFile(env));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(readStoredConfig(env)).toEqual({ url: "https://portal.example.com", token: "envp_x" });
    writeStoredConfig({ url: "https://other.example.com", token: "envp_y" }, env);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({
      url: "https://other.example.com",
      token: "envp_y",
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(removeStoredConfig(env)).toBe(true);
    expect(removeStoredConfig(env)).toBe(false);
  });

  it("is overridden by ENVCTL_URL and ENVCTL_TOKEN (pipelines), and missing both is bad input", () => {
    const env = tempEnv();
    writeStoredConfig({ url: "https://stored.example.com", token: "envp_stored" }, env);
    expect(resolveConnection(env)).toEqual({ url: "https://stored.example.com", token: "envp_stored" });
    expect(resolveConnection({ ...env, ENVCTL_TOKEN: "envp_env" })).toEqual({
      url: "https://stored.example.com",
      token: "envp_env",
    });
    expect(
      resolveConnection({ ENVCTL_URL: "http://127.0.0.1:3000/", ENVCTL_TOKEN: "envp_env", ...tempEnv() }),
    ).toEqual({
      url: "http://127.0.0.1:3000",
      token: "envp_env",
    });
    let error: unknown;
    try {
      resolveConnection(tempEnv());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(EXIT.badInput);
  });

  it("accepts only http(s) portal URLs", () => {
    expect(normaliseUrl("https://portal.example.com/")).toBe("https://portal.example.com");
    expect(() => normaliseUrl("portal.example.com")).toThrow(/Not a URL/);
    expect(() => normaliseUrl("ftp://portal.example.com")).toThrow(/https/);
  });
});
