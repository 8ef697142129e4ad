// Finishes an OpenID Connect sign-in: verifies the answer (state, nonce, PKCE, ID token), decides the role from
// the groups, sets the session cookie and records the sign-in (or its failure) in the audit log.
import { writeAudit } from "../../../features/audit/audit-log";
import { finishLogin, SignInError } from "../../../server/auth/oidc";
import { principalFrom } from "../../../server/auth/principal";
import { createSession, loginCookieName, sessionCookieName } from "../../../server/auth/session";
import { db } from "../../../server/db";
import { config } from "../../../server/env";
import { addressFrom } from "../../../server/identity";
import { webLogger } from "../../../server/logger";

export const dynamic = "force-dynamic";

const cookieOf = (request: Request, name: string) =>
  (request.headers.get("cookie") ?? "")
    .split(";")
    .map((c) => c.trim())
    .find((c) => c.startsWith(`${name}=`))
    ?.slice(name.length + 1);

export async function GET(request: Request) {
  const c = config();
  const secure = c.PUBLIC_URL?.startsWith("https:") ?? false;
  const clearLogin = `${loginCookieName(secure)}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure ? "; Secure" : ""}`;
  const address = addressFrom(request.headers.get("x-forwarded-for"));
  const back = (path: string, cookies: string[]) => {
    const headers = new Headers({ location: path, "cache-control": "no-store" });
    for (const cookie of cookies) headers.append("set-cookie", cookie);
    return new Response(null, { status: 303, headers });
  };
  if (c.AUTH_MODE !== "oidc") return back("/", []);
  const search = new URL(request.url).search;
  try {
    const { identity, next } = await finishLogin(c, search, cookieOf(request, loginCookieName(secure)));
    const resolved = principalFrom(identity, "oidc", c);
    if (!resolved.ok) {
      await writeAudit(db(), {
        actor: { id: identity.email ?? identity.subject, name: identity.name },
        action: "sign-in-failed",
        outcome: "refused",
        reason: resolved.reason,
        address,
      });
      return back("/signin?error=no-role", [clearLogin]);
    }
    const p = resolved.principal;
    // Only the groups that matter to the portal go into the cookie (browsers cap cookies at 4 KB).
    const relevant = p.groups
      .filter(
        (g) => [...c.ADMIN_GROUPS, ...c.MEMBER_GROUPS, ...c.VIEWER_GROUPS].includes(g) || p.teams.includes(g),
      )
      .slice(0, 50);
    const session = await createSession(
      { sub: p.subject, email: p.email, name: p.name, groups: relevant },
      c,
    );
    await writeAudit(db(), {
      actor: p,
      action: "sign-in",
      outcome: "accepted",
      address,
      details: { via: "oidc", groups: relevant, teams: p.teams },
    });
    return back(next, [
      clearLogin,
      `${sessionCookieName(secure)}=${session}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${c.SESSION_HOURS * 3600}${secure ? "; Secure" : ""}`,
    ]);
  } catch (e) {
    const reason =
      e instanceof SignInError
        ? e.message
        : `the identity provider's answer was refused (${e instanceof Error ? e.message : e})`;
    webLogger().warn({ reason }, "sign-in failed");
    await writeAudit(db(), {
      actor: { id: "anonymous" },
      action: "sign-in-failed",
      outcome: "failed",
      reason,
      address,
    }).catch(() => {});
    return back("/signin?error=failed", [clearLogin]);
  }
}
