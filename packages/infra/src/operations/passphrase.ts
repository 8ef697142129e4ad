import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * The secrets passphrase for the local default: generated on first use and kept in
 * `<dataDir>/pulumi-passphrase`, readable only by its owner (0600). Losing it makes the stacks' secrets
 * unreadable, so it is never overwritten.
 */
export function localPassphrase(dataDir: string): string {
  const file = path.join(dataDir, "pulumi-passphrase");
  if (existsSync(file)) {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    return readFileSync(file, "utf8").trim();
  }
  mkdirSync(dataDir, { recursive: true });
  const passphrase = randomBytes(32).toString("base64url");
  // "wx": never clobber a passphrase another process wrote a moment ago.
  try {
    writeFileSync(file, `${passphrase}\n`, { mode: 0o600, flag: "wx" });
    return passphrase;
  } catch {
    return readFileSync(file, "utf8").trim();
  }
}
