// AUTH_MODE=oidc: the portal is an OpenID Connect relying party (authorization code flow with PKCE, state and
// nonce; openid-client 6). /auth/login starts it, /auth/callback finishes it and sets the session cookie.
import * as client from "openid-client";
import { type PortalConfig, publicUrl } from "../env";
import { groupsFromClaim, type SignedInIdentity } from "./principal";
import { sessionKey, signToken, verifyToken } from "./session";

const LOGIN_SECONDS = 600;

const holder = globalThis as unknown as { __portalOidc?: Promise<client.Configuration> };

/** The provider's configuration, discovered once (retried after a failure). */
export function oidcConfiguration(c: PortalConfig): Promise<client.Configuration> {
  holder.__portalOidc ??= client
    .discovery(
      new URL(c.OIDC_ISSUER_URL as string),
      c.OIDC_CLIENT_ID as string,
      c.OIDC_CLIENT_SECRET ? { client_secret: c.OIDC_CLIENT_SECRET } : undefined,
      c.OIDC_CLIENT_SECRET ? undefined : client.None(),
      c.OIDC_ALLOW_INSECURE_ISSUER
        ? { execute: [client.allowInsecureRequests], timeout: 10 }
        : { timeout: 10 },
    )
    .catch((e) => {
      holder.__portalOidc = undefined;
      throw e;
    });
  return holder.__portalOidc;
}

export const redirectUri = (c: PortalConfig) => `${publicUrl(c)}/auth/callback`;

/** A local path to return to after sign-in ("/" for anything else: no open redirects). */
export function safeReturnPath(next: string | null | undefined): string {
  return next && /^\/(?![/\\])/.test(next) && !/[\s\\]/.test(next) ? next.slice(0, 500) : "/";
}

/** The provider's authorization URL, and the signed short-lived cookie that remembers this attempt. */
export async function startLogin(c: PortalConfig, next: string): Promise<{ url: URL; cookie: string }> {
  const config = await oidcConfiguration(c);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri(c),
    scope: c.OIDC_SCOPES,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
  });
  const cookie = await signToken(
    { verifier, state, nonce, next: safeReturnPath(next) },
    "login",
    sessionKey(c),
    LOGIN_SECONDS,
  );
  return { url, cookie };
}

export class SignInError extends Error {
  override name = "SignInError";
}

/** Finishes the flow: checks state, nonce and PKCE, exchanges the code, and says who signed in. */
export async function finishLogin(
  c: PortalConfig,
  search: string,
  loginCookie: string | undefined,
): Promise<{ identity: SignedInIdentity; next: string }> {
  if (!loginCookie)
    throw new SignInError("the sign-in took too long or started in another browser; try again");
  let pending: Record<string, unknown>;
  try {
    pending = await verifyToken(loginCookie, "login", sessionKey(c));
  } catch {
    throw new SignInError("the sign-in took too long; try again");
  }
  const config = await oidcConfiguration(c);
  const tokens = await client.authorizationCodeGrant(config, new URL(`${redirectUri(c)}${search}`), {
    pkceCodeVerifier: String(pending.verifier),
    expectedState: String(pending.state),
    expectedNonce: String(pending.nonce),
    idTokenExpected: true,
  });
  const claims: Record<string, unknown> = { ...(tokens.claims() ?? {}) };
  // Some providers put e-mail or groups only in the userinfo answer.
  if ((claims[c.GROUPS_CLAIM] === undefined || claims[c.EMAIL_CLAIM] === undefined) && tokens.access_token) {
    try {
      const info = await client.fetchUserInfo(config, tokens.access_token, String(claims.sub));
      for (const [k, v] of Object.entries(info)) if (claims[k] === undefined) claims[k] = v;
    } catch {
      // userinfo is optional: go on with the ID token's claims
    }
  }
  const str = (v: unknown) => (typeof v === "string" && v ? v : undefined);
  return {
    identity: {
      subject: String(claims.sub),
      email: str(claims[c.EMAIL_CLAIM]),
      name: str(claims[c.NAME_CLAIM]),
      groups: groupsFromClaim(claims[c.GROUPS_CLAIM]),
    },
    next: safeReturnPath(str(pending.next)),
  };
}
