// One identity resolver per AUTH_MODE behind one interface: given a request (headers and cookies), who is it?
// A further mode (e.g. personal access tokens) is one more resolver here.
import type { PortalConfig } from "../env";
import { groupsFromClaim, principalFrom, type Resolution } from "./principal";
import { verifyProxyAssertion } from "./proxy-jwt";
import { readSession, sessionCookieName } from "./session";

export interface RequestLike {
  header(name: string): string | null;
  cookie(name: string): string | undefined;
}

export interface IdentityResolver {
  mode: PortalConfig["AUTH_MODE"];
  resolve(request: RequestLike): Promise<Resolution>;
}

/** dev: the identity header when present (nothing verifies it), else LOCAL_USER; groups likewise. */
export function devResolver(c: PortalConfig): IdentityResolver {
  return {
    mode: "dev",
    async resolve(request) {
      const user = request.header(c.AUTH_USER_HEADER)?.trim().slice(0, 200) || c.LOCAL_USER;
      const header = request.header(c.AUTH_GROUPS_HEADER);
      const groups = header !== null ? groupsFromClaim(header) : c.LOCAL_GROUPS;
      return principalFrom(
        { subject: user, email: user.includes("@") ? user : undefined, name: user, groups },
        "dev",
        c,
      );
    },
  };
}

/** oidc: the portal's own signed session cookie, set by /auth/callback. */
export function oidcResolver(c: PortalConfig): IdentityResolver {
  const secure = c.PUBLIC_URL?.startsWith("https:") ?? false;
  return {
    mode: "oidc",
    async resolve(request) {
      const session = await readSession(request.cookie(sessionCookieName(secure)), c);
      if (!session) return { ok: false, reason: "Sign in to continue." };
      return principalFrom(
        { subject: session.sub, email: session.email, name: session.name, groups: session.groups },
        "oidc",
        c,
      );
    },
  };
}

/** proxy-jwt: the authenticating proxy's signed assertion in PROXY_JWT_HEADER, verified on every request. */
export function proxyJwtResolver(c: PortalConfig): IdentityResolver {
  return {
    mode: "proxy-jwt",
    async resolve(request) {
      const verified = await verifyProxyAssertion(request.header(c.PROXY_JWT_HEADER ?? ""), c);
      if (!verified.ok) return verified;
      const claims = verified.claims;
      const str = (v: unknown) => (typeof v === "string" && v ? v : undefined);
      return principalFrom(
        {
          subject: str(claims.sub) ?? "",
          email: str(claims[c.EMAIL_CLAIM]),
          name: str(claims[c.NAME_CLAIM]),
          groups: groupsFromClaim(claims[c.GROUPS_CLAIM]),
        },
        "proxy-jwt",
        c,
      );
    },
  };
}

export function resolverFor(c: PortalConfig): IdentityResolver {
  switch (c.AUTH_MODE) {
    case "oidc":
      return oidcResolver(c);
    case "proxy-jwt":
      return proxyJwtResolver(c);
    default:
      return devResolver(c);
  }
}
