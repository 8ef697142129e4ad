// AUTH_MODE=proxy-jwt: an authenticating proxy in front of the portal signs an assertion about the person (a JWT
// in PROXY_JWT_HEADER); the portal verifies signature, issuer, audience (or the ALB's signer) and expiry on every
// request. Keys come from a JWKS URL (Google IAP, oauth2-proxy's identity provider) or, for AWS ALB, from a
// per-key PEM URL (https://public-keys.auth.elb.<region>.amazonaws.com/<kid>).
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  importSPKI,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";
import type { PortalConfig } from "../env";

export type Assertion = { ok: true; claims: JWTPayload } | { ok: false; reason: string };

const KID = /^[\w.-]{1,128}$/;
const CLOCK_TOLERANCE_SECONDS = 30;

/** Keys per configuration (one process has one; tests build several). */
const keyStores = new Map<string, JWTVerifyGetKey>();

function pemKeys(template: string): JWTVerifyGetKey {
  const cache = new Map<string, Promise<CryptoKey>>();
  return async (header) => {
    const kid = header.kid ?? "";
    if (!KID.test(kid)) throw new Error("the assertion names no valid key id (kid)");
    let key = cache.get(kid);
    if (!key) {
      key = (async () => {
        const res = await fetch(template.replace("{kid}", encodeURIComponent(kid)), {
          signal: AbortSignal.timeout(5000),
        });
        if (!res.ok) throw new Error(`key ${kid}: HTTP ${res.status}`);
        return (await importSPKI(await res.text(), header.alg ?? "ES256")) as CryptoKey;
      })();
      cache.set(kid, key);
      key.catch(() => cache.delete(kid));
      if (cache.size > 100) cache.delete(cache.keys().next().value as string);
    }
    return await key;
  };
}

function keysFor(c: PortalConfig): JWTVerifyGetKey {
  const source = c.PROXY_JWT_JWKS_URL ?? c.PROXY_JWT_PEM_KEY_URL ?? "";
  let keys = keyStores.get(source);
  if (!keys) {
    keys = c.PROXY_JWT_JWKS_URL
      ? createRemoteJWKSet(new URL(c.PROXY_JWT_JWKS_URL), { timeoutDuration: 5000, cooldownDuration: 30_000 })
      : pemKeys(source);
    keyStores.set(source, keys);
  }
  return keys;
}

/**
 * AWS ALB pads the base64url parts of x-amzn-oidc-data with "=", which strict JWT parsers refuse; the padding
 * carries nothing, so it is dropped. A "Bearer " prefix (oauth2-proxy's Authorization header) is dropped too.
 */
export function normaliseAssertion(raw: string): string {
  const token = raw.trim().replace(/^Bearer\s+/i, "");
  return token
    .split(".")
    .map((part) => part.replace(/=+$/, ""))
    .join(".");
}

export async function verifyProxyAssertion(raw: string | null, c: PortalConfig): Promise<Assertion> {
  if (!raw)
    return { ok: false, reason: `No identity assertion (${c.PROXY_JWT_HEADER}) was sent by the proxy.` };
  const token = normaliseAssertion(raw);
  try {
    if (c.PROXY_JWT_ALB_ARN) {
      const signer = (decodeProtectedHeader(token) as { signer?: unknown }).signer;
      if (signer !== c.PROXY_JWT_ALB_ARN)
        return { ok: false, reason: "The assertion was signed by another load balancer." };
    }
    const { payload } = await jwtVerify(token, keysFor(c), {
      issuer: c.PROXY_JWT_ISSUER,
      audience: c.PROXY_JWT_AUDIENCE.length ? c.PROXY_JWT_AUDIENCE : undefined,
      algorithms: c.PROXY_JWT_ALGORITHMS,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ["exp"],
    });
    if (typeof payload.sub !== "string" || !payload.sub)
      return { ok: false, reason: "The assertion names nobody (no sub)." };
    return { ok: true, claims: payload };
  } catch (e) {
    const code = (e as { code?: string }).code ?? "";
    const reason =
      code === "ERR_JWT_EXPIRED"
        ? "The identity assertion has expired."
        : code === "ERR_JWT_CLAIM_VALIDATION_FAILED"
          ? `The identity assertion is not for this portal (${(e as { claim?: string }).claim ?? "claim"} does not match).`
          : code === "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" || code === "ERR_JWKS_NO_MATCHING_KEY"
            ? "The identity assertion's signature is not valid."
            : `The identity assertion could not be verified (${code || (e instanceof Error ? e.message : "error")}).`;
    return { ok: false, reason };
  }
}
