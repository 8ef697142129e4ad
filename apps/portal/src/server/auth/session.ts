// The portal's own sign-in session (AUTH_MODE=oidc): a JWT signed with HS256 in an http-only, SameSite=Lax cookie.
// It holds who signed in and their groups (not their role: roles are worked out from the groups on every request,
// so a configuration change applies at once). Expires after SESSION_HOURS; sign-out deletes it.

import path from "node:path";
import { jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import type { PortalConfig } from "../env";
import { secretFile } from "./secret-file";

const sessionSchema = z.object({
  sub: z.string().min(1),
  email: z.string().optional(),
  name: z.string().optional(),
  groups: z.array(z.string()).default([]),
});
export type SessionClaims = z.infer<typeof sessionSchema>;

const ISSUER = "platform-portal";

/** `__Host-` cookies are bound to the exact origin and need https; plain http (a laptop) gets a plain name. */
export const sessionCookieName = (secure: boolean) => (secure ? "__Host-portal_session" : "portal_session");
export const loginCookieName = (secure: boolean) => (secure ? "__Host-portal_login" : "portal_login");

/** SESSION_SECRET, else a key generated once into <DATA_DIR>/session-secret (mode 0600). */
export function sessionKey(c: PortalConfig): Uint8Array {
  const secret = c.SESSION_SECRET ?? secretFile(path.join(c.DATA_DIR, "session-secret"));
  return new TextEncoder().encode(secret);
}

export async function signToken(
  claims: Record<string, unknown>,
  audience: string,
  key: Uint8Array,
  seconds: number,
): Promise<string> {
  return await new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setIssuer(ISSUER)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + seconds)
    .sign(key);
}

export async function verifyToken(token: string, audience: string, key: Uint8Array) {
  const { payload } = await jwtVerify(token, key, { issuer: ISSUER, audience, algorithms: ["HS256"] });
  return payload;
}

export async function createSession(claims: SessionClaims, c: PortalConfig): Promise<string> {
  return await signToken({ ...claims }, "session", sessionKey(c), c.SESSION_HOURS * 3600);
}

/** The session's claims, or null when the cookie is missing, forged or expired. */
export async function readSession(token: string | undefined, c: PortalConfig): Promise<SessionClaims | null> {
  if (!token) return null;
  try {
    const parsed = sessionSchema.safeParse(await verifyToken(token, "session", sessionKey(c)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
