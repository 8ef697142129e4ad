// Personal access tokens look like `envp_` + 30 random base62 characters + a 6-character base62 CRC32 of those
// (GitHub's scheme): the prefix lets secret scanners find leaked tokens (regex `envp_[0-9A-Za-z]{36}`), the
// checksum lets them (and the portal) reject typos and made-up strings without a database lookup.
// Only a SHA-256 hash is stored. A slow password hash (bcrypt, scrypt, argon2) protects low-entropy secrets
// against guessing; these carry ~178 bits of randomness, so guessing is hopeless either way and a fast hash
// keeps the per-request lookup cheap (an indexed equality on the hash, no per-user salt to find first).
import { createHash, randomInt } from "node:crypto";
import { crc32 } from "node:zlib";

export const TOKEN_PREFIX = "envp_";
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_CHARS = 30;
const CHECKSUM_CHARS = 6;
export const TOKEN_PATTERN = /^envp_[0-9A-Za-z]{36}$/;

function base62(n: number, width: number): string {
  let out = "";
  let v = n;
  for (let i = 0; i < width; i++) {
    out = ALPHABET[v % 62] + out;
    v = Math.floor(v / 62);
  }
  return out;
}

const checksum = (random: string) => base62(crc32(random) >>> 0, CHECKSUM_CHARS);

/** A new token (shown once to its owner). */
export function generateToken(): string {
  let random = "";
  for (let i = 0; i < RANDOM_CHARS; i++) random += ALPHABET[randomInt(62)];
  return `${TOKEN_PREFIX}${random}${checksum(random)}`;
}

/** True when `value` has the token's shape and a matching checksum (no database needed). */
export function isWellFormedToken(value: string): boolean {
  if (!TOKEN_PATTERN.test(value)) return false;
  const body = value.slice(TOKEN_PREFIX.length);
  return checksum(body.slice(0, RANDOM_CHARS)) === body.slice(RANDOM_CHARS);
}

export const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");

/** What lists show to recognise a token: its prefix and first four random characters. */
export const tokenDisplayPrefix = (token: string) => token.slice(0, TOKEN_PREFIX.length + 4);

/** The token in an `Authorization: Bearer envp_…` header, or null when the header carries something else. */
export function bearerToken(authorization: string | null): string | null {
  const match = /^Bearer\s+(envp_\S*)\s*$/i.exec(authorization ?? "");
  return match?.[1] ?? null;
}
