// One identity resolver per AUTH_MODE behind one interface: given a request (headers and cookies), who is it?
// Personal access tokens (the API and the CLI) are one more resolver here, next to the sign-in modes.
import type { ApiToken } from "@platform/db/client";
import type { Principal } from "../../shared/access";
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

/** What presenting a token gave (features/tokens/tokens.ts `findToken`). */
export type TokenLookup =
  | { ok: true; token: ApiToken }
  | { ok: false; reason: string; token?: ApiToken; code: "unknown" | "expired" | "revoked" };

export type TokenResolution =
  | { ok: true; principal: Principal & { token: NonNullable<Principal["token"]> } }
  | {
      ok: false;
      code: "missing" | "unknown" | "expired" | "revoked" | "no-access";
      reason: string;
      /** The token's owner, when the token is known (audit log). */
      owner?: string;
      tokenId?: string;
    };

/**
 * Personal access tokens: `Authorization: Bearer envp_…`, looked up by hash (`find`). The token acts as its owner
 * with the role the owner's last seen groups give under the current configuration (README "Tokens").
 */
export function tokenResolver(
  c: PortalConfig,
  find: (presented: string) => Promise<TokenLookup>,
): { resolve(request: RequestLike): Promise<TokenResolution> } {
  return {
    async resolve(request) {
      const header = request.header("authorization");
      const presented = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1];
      if (!presented) {
        return {
          ok: false,
          code: "missing",
          reason:
            "This API needs a personal access token: send `Authorization: Bearer envp_…` (create one on the Tokens page).",
        };
      }
      const found = await find(presented);
      if (!found.ok) {
        return {
          ok: false,
          code: found.code,
          reason: found.reason,
          owner: found.token?.owner,
          tokenId: found.token?.id,
        };
      }
      const t = found.token;
      const who = principalFrom(
        {
          subject: t.ownerSubject,
          email: t.ownerEmail ?? undefined,
          name: t.ownerName,
          groups: t.ownerGroups,
        },
        "token",
        c,
      );
      if (!who.ok) {
        return {
          ok: false,
          code: "no-access",
          owner: t.owner,
          tokenId: t.id,
          reason: `The token's owner ${t.owner} no longer has a role in the portal (their groups as last seen give none).`,
        };
      }
      return {
        ok: true,
        principal: { ...who.principal, token: { id: t.id, prefix: t.tokenPrefix, scope: t.scope } },
      };
    },
  };
}
