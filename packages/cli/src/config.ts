// Where envctl keeps the portal URL and token: $XDG_CONFIG_HOME/envctl/config.json (else ~/.config/envctl),
// folder 0700, file 0600, written atomically. ENVCTL_URL and ENVCTL_TOKEN override it (CI pipelines set those
// and never log in).
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { CliError, EXIT } from "./errors.js";

export interface StoredConfig {
  url: string;
  token: string;
}

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME)
      ? env.XDG_CONFIG_HOME
      : path.join(homedir(), ".config");
  return path.join(base, "envctl");
}

export const configFile = (env: NodeJS.ProcessEnv = process.env) => path.join(configDir(env), "config.json");

export function readStoredConfig(env: NodeJS.ProcessEnv = process.env): Partial<StoredConfig> {
  const file = configFile(env);
  if (!existsSync(file)) return {};
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as Partial<StoredConfig>;
    return {
      url: typeof parsed.url === "string" ? parsed.url : undefined,
      token: typeof parsed.token === "string" ? parsed.token : undefined,
    };
  } catch {
    throw new CliError(`${file} is not valid JSON: run envctl login again.`, EXIT.badInput);
  }
}

export function writeStoredConfig(config: StoredConfig, env: NodeJS.ProcessEnv = process.env): string {
  const dir = configDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const file = configFile(env);
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, file);
  return file;
}

export function removeStoredConfig(env: NodeJS.ProcessEnv = process.env): boolean {
  const file = configFile(env);
  if (!existsSync(file)) return false;
  rmSync(file);
  return true;
}

/** A portal base URL: http(s), no path after the host (a trailing slash is dropped). */
export function normaliseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new CliError(
      `Not a URL: ${raw}. Give the portal's address, e.g. https://portal.example.com.`,
      EXIT.badInput,
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new CliError(`The portal URL must start with https:// (or http://): ${raw}`, EXIT.badInput);
  }
  return url.toString().replace(/\/+$/, "");
}

/** The URL and token to use: the environment variables, else the stored login. */
export function resolveConnection(env: NodeJS.ProcessEnv = process.env): StoredConfig {
  const stored = readStoredConfig(env);
  const url = env.ENVCTL_URL || stored.url;
  const token = env.ENVCTL_TOKEN || stored.token;
  if (!url || !token) {
    throw new CliError(
      "Not logged in: run `envctl login --url https://portal.example.com` (or set ENVCTL_URL and ENVCTL_TOKEN).",
      EXIT.badInput,
    );
  }
  return { url: normaliseUrl(url), token: token.trim() };
}
