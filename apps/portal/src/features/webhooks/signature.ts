// Webhook signatures: HMAC-SHA256 over "<unix seconds>.<body>" with the webhook's secret, sent as
//   X-Portal-Signature: t=<unix seconds>,v1=<hex>
// The timestamp is inside what is signed, so a receiver that rejects old timestamps (5 minutes) also rejects a
// recorded delivery replayed later; the delivery id (X-Portal-Delivery) lets it drop duplicates of a retry.
// Receivers verify with the same steps (packages/cli exports `verifyWebhookSignature`; README "Webhooks").
import { createHmac, randomBytes } from "node:crypto";

export const SIGNATURE_HEADER = "x-portal-signature";

export const newWebhookSecret = () => `whsec_${randomBytes(32).toString("base64url")}`;

export function signatureHeader(secret: string, body: string, at: Date = new Date()): string {
  const t = Math.floor(at.getTime() / 1000);
  const v1 = createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
  return `t=${t},v1=${v1}`;
}
