// The Idempotency-Key header of API writes (IETF draft "The Idempotency-Key HTTP Header Field").
//
// - The commands already stop duplicates by their own key: the API passes them a key derived from the caller
//   and the header (`deterministicUuid`), so a retried create or scale finds the first request's environment
//   or operation, even when two retries race.
// - The API also remembers, for 24 hours, which body the key was first used with and the (2xx) answer it got:
//   the same key with the same body gets that answer again (header `Idempotent-Replayed: true`); with a
//   different body it gets 422 `idempotency-key-reused` and nothing runs. A request that was refused (4xx)
//   recorded nothing, so its key is free again: correcting the body and retrying with the same key works.
// - Keys are per person (two people's keys never meet). Without the header every write is a new request.
import { createHash } from "node:crypto";
import type { Prisma, PrismaClient } from "@platform/db/client";
import { ApiError } from "./errors";

export const IDEMPOTENCY_HOURS = 24;
const KEY = /^[\x21-\x7e]{1,255}$/;

export function idempotencyKeyOf(request: Request): string | null {
  const key = request.headers.get("idempotency-key");
  if (key === null) return null;
  const trimmed = key.trim().replace(/^"(.*)"$/, "$1"); // the draft sends it as a quoted string
  if (!KEY.test(trimmed)) {
    throw new ApiError(
      "bad-request",
      "Idempotency-Key must be 1–255 visible ASCII characters (a UUID is a good choice).",
      "Idempotency-Key",
    );
  }
  return trimmed;
}

/** A stable UUID-shaped key from `text` (the commands' idempotency keys are UUIDs). */
export function deterministicUuid(text: string): string {
  const h = createHash("sha256").update(text).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** JSON with object keys sorted, so the same body always gives the same fingerprint. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

export const fingerprintOf = (method: string, path: string, body: unknown) =>
  createHash("sha256")
    .update(`${method} ${path}\n${canonical(body)}`)
    .digest("hex");

export type KeyState = { replay: { status: number; body: unknown } } | { replay: null };

/** Claims `key` for this request, or says what an earlier use of it means. */
export async function claimKey(
  db: PrismaClient,
  owner: string,
  key: string,
  request: { method: string; path: string; fingerprint: string },
): Promise<KeyState> {
  const fresh = new Date(Date.now() - IDEMPOTENCY_HOURS * 3600_000);
  // Keys older than the window are forgotten (and an occasional sweep deletes them).
  await db.apiIdempotencyKey.deleteMany({ where: { owner, key, createdAt: { lt: fresh } } });
  if (Math.random() < 0.01) await db.apiIdempotencyKey.deleteMany({ where: { createdAt: { lt: fresh } } });
  await db.apiIdempotencyKey.createMany({
    data: [{ owner, key, fingerprint: request.fingerprint, method: request.method, path: request.path }],
    skipDuplicates: true,
  });
  const row = await db.apiIdempotencyKey.findUnique({ where: { owner_key: { owner, key } } });
  if (!row) return { replay: null }; // swept in between: run as new
  if (row.fingerprint !== request.fingerprint) {
    throw new ApiError(
      "idempotency-key-reused",
      `This Idempotency-Key was used ${row.method === request.method && row.path === request.path ? "with another request body" : `for ${row.method} ${row.path}`} in the last ${IDEMPOTENCY_HOURS} hours; use a new key for a new request.`,
      "Idempotency-Key",
    );
  }
  if (row.responseStatus !== null) return { replay: { status: row.responseStatus, body: row.responseBody } };
  return { replay: null };
}

/** Remembers a successful answer for replays; forgets the key after a refusal (nothing was recorded). */
export async function settleKey(
  db: PrismaClient,
  owner: string,
  key: string,
  answer: { status: number; body: unknown },
): Promise<void> {
  if (answer.status >= 200 && answer.status < 300) {
    await db.apiIdempotencyKey.updateMany({
      where: { owner, key, responseStatus: null },
      data: { responseStatus: answer.status, responseBody: answer.body as Prisma.InputJsonValue },
    });
  } else {
    await db.apiIdempotencyKey.deleteMany({ where: { owner, key, responseStatus: null } });
  }
}
