// Who may read the metrics: a bearer token, compared in constant time. The web route accepts METRICS_TOKEN
// and the token the start command hands its own web server (to include the web metrics in its listener).
import { createHash, timingSafeEqual } from "node:crypto";

const digest = (s: string) => createHash("sha256").update(s).digest();

/** True when `authorization` is `Bearer <one of tokens>`. */
export function bearerAllowed(authorization: string | null | undefined, tokens: string[]): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  if (!match?.[1]) return false;
  const given = digest(match[1]);
  let ok = false;
  for (const token of tokens) if (token && timingSafeEqual(given, digest(token))) ok = true;
  return ok;
}

/** The environment variable through which the start command gives its web server the internal token. */
export const INTERNAL_METRICS_TOKEN_VARIABLE = "PORTAL_INTERNAL_METRICS_TOKEN";
