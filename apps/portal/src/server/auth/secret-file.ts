// Secrets generated once per data folder and kept in a file only their owner can read (mode 0600): the
// session-signing key and the embedded PostgreSQL's passwords. Never overwritten (losing them signs everyone out
// or locks the database), and written with "wx" so two processes starting at once agree on one value.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

export function secretFile(file: string, bytes = 32): string {
  if (existsSync(file)) {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    return readFileSync(file, "utf8").trim();
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const value = randomBytes(bytes).toString("base64url");
  try {
    writeFileSync(file, `${value}\n`, { mode: 0o600, flag: "wx" });
    return value;
  } catch {
    return readFileSync(file, "utf8").trim();
  }
}
