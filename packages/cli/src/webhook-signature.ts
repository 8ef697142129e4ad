// Verifying the portal's webhook deliveries (for receivers written in Node). The portal sends
//   X-Portal-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the webhook's secret>
// Verify the RAW body bytes (before any JSON parsing), compare in constant time, and refuse old timestamps so a
// recorded delivery cannot be replayed later. Drop duplicates by X-Portal-Delivery (a retry resends the same id).
import { createHmac, timingSafeEqual } from "node:crypto";

export interface VerifyOptions {
  secret: string;
  /** The X-Portal-Signature header. */
  header: string | null | undefined;
  /** The raw request body. */
  body: string | Buffer;
  /** How old a delivery may be (default 300 s). */
  toleranceSeconds?: number;
  now?: Date;
}

export type VerifyResult = { ok: true; timestamp: number } | { ok: false; reason: string };

export function verifyWebhookSignature(o: VerifyOptions): VerifyResult {
  if (!o.header) return { ok: false, reason: "no X-Portal-Signature header" };
  const parts = new Map<string, string[]>();
  for (const piece of o.header.split(",")) {
    const [k, v] = piece.trim().split("=", 2);
    if (k && v) parts.set(k, [...(parts.get(k) ?? []), v]);
  }
  const t = Number(parts.get("t")?.[0]);
  const signatures = parts.get("v1") ?? [];
  if (!Number.isInteger(t) || signatures.length === 0)
    return { ok: false, reason: "malformed signature header" };
  const age = Math.abs((o.now ?? new Date()).getTime() / 1000 - t);
  if (age > (o.toleranceSeconds ?? 300))
    return { ok: false, reason: `timestamp outside the tolerance (${Math.round(age)} s)` };
  const body = typeof o.body === "string" ? o.body : o.body.toString("utf8");
  const expected = createHmac("sha256", o.secret).update(`${t}.${body}`).digest();
  // Several v1 values may be sent while a secret is being rotated: one match is enough.
  const match = signatures.some((s) => {
    const given = Buffer.from(s, "hex");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return match ? { ok: true, timestamp: t } : { ok: false, reason: "signature does not match" };
}
