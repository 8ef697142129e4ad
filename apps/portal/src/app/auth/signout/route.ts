// Signs out: deletes the session cookie and records it. POST only, from the portal's own pages (Origin checked).
import { writeAudit } from "../../../features/audit/audit-log";
import { sessionCookieName } from "../../../server/auth/session";
import { db } from "../../../server/db";
import { config, publicUrl } from "../../../server/env";
import { addressFrom, routePrincipal } from "../../../server/identity";
import { webLogger } from "../../../server/logger";

export const dynamic = "force-dynamic";

export async function POST(request: Request) {
  const c = config();
  const origin = request.headers.get("origin");
  const host = request.headers.get("x-forwarded-host") ?? request.headers.get("host");
  if (origin && origin !== publicUrl(c) && new URL(origin).host !== host) {
    return Response.json({ error: "cross-site sign-out refused" }, { status: 403 });
  }
  const secure = c.PUBLIC_URL?.startsWith("https:") ?? false;
  const principal = await routePrincipal(request);
  if (!(principal instanceof Response)) {
    await writeAudit(db(), {
      actor: principal,
      action: "sign-out",
      outcome: "accepted",
      address: addressFrom(request.headers.get("x-forwarded-for")),
    }).catch((e) => webLogger().error({ err: e }, "could not record the sign-out in the audit log"));
  }
  return new Response(null, {
    status: 303,
    headers: {
      location: "/signin?signedOut=1",
      "set-cookie": `${sessionCookieName(secure)}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure ? "; Secure" : ""}`,
      "cache-control": "no-store",
    },
  });
}
