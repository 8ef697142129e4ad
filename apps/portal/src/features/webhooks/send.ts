// One webhook request: a signed JSON POST to the URL, connecting only to addresses the URL policy allows (the
// address checked is the address connected to), with a timeout, no redirects followed, and a short summary of
// the answer for the delivery log.
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { SIGNATURE_HEADER, signatureHeader } from "./signature";
import { hostOf, resolveAllowed, type UrlPolicy, urlFormRefusal } from "./url-policy";

export interface SendResult {
  ok: boolean;
  status: number | null;
  error: string | null;
  durationMs: number;
}

export async function sendWebhook(options: {
  url: string;
  secret: string;
  body: string;
  event: string;
  deliveryId: string;
  policy: UrlPolicy;
  timeoutMs: number;
}): Promise<SendResult> {
  const started = Date.now();
  const done = (ok: boolean, status: number | null, error: string | null): SendResult => ({
    ok,
    status,
    error,
    durationMs: Date.now() - started,
  });
  const form = urlFormRefusal(options.url, options.policy);
  if (form) return done(false, null, form);
  const url = new URL(options.url);
  const host = hostOf(url);
  let addresses: { address: string; family: number }[];
  try {
    addresses = await resolveAllowed(host, options.policy);
  } catch (e) {
    const code = (e as { code?: string }).code;
    return done(false, null, code ? `${host}: ${code}` : (e as Error).message);
  }
  const first = addresses[0] as { address: string; family: number };
  // Node resolves the host itself unless told: hand it the checked address.
  const pinned: LookupFunction = (_hostname, opts, callback) => {
    if ((opts as { all?: boolean }).all) (callback as (e: null, a: typeof addresses) => void)(null, [first]);
    else callback(null, first.address, first.family);
  };
  const client = url.protocol === "https:" ? https : http;
  return await new Promise<SendResult>((resolve) => {
    const req = client.request(
      url,
      {
        method: "POST",
        lookup: pinned,
        timeout: options.timeoutMs,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(options.body),
          "user-agent": "environments-portal-webhooks/1",
          "x-portal-event": options.event,
          "x-portal-delivery": options.deliveryId,
          [SIGNATURE_HEADER]: signatureHeader(options.secret, options.body),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          if (text.length < 500) text += chunk;
        });
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(done(true, status, null));
          else if (status >= 300 && status < 400)
            resolve(done(false, status, `redirect to ${res.headers.location ?? "?"} (not followed)`));
          else resolve(done(false, status, `HTTP ${status}${text ? `: ${text.trim().slice(0, 300)}` : ""}`));
        });
        res.on("error", (e) => resolve(done(false, res.statusCode ?? null, e.message)));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${options.timeoutMs / 1000} s`)));
    req.on("error", (e) => resolve(done(false, null, e.message)));
    req.end(options.body);
  });
}
