// Starts an OpenID Connect sign-in: remembers state, nonce and PKCE verifier in a short-lived signed cookie and
// sends the browser to the identity provider.

import { startLogin } from "../../../server/auth/oidc";
import { loginCookieName } from "../../../server/auth/session";
import { config } from "../../../server/env";
import { webLogger } from "../../../server/logger";

export const dynamic = "force-dynamic";

export async function GET(request: Request) {
  const c = config();
  const to = (location: string) => new Response(null, { status: 303, headers: { location } });
  if (c.AUTH_MODE !== "oidc") return to("/");
  const next = new URL(request.url).searchParams.get("next") ?? "/";
  try {
    const { url, cookie } = await startLogin(c, next);
    const secure = url.protocol === "https:" && (c.PUBLIC_URL?.startsWith("https:") ?? false);
    return new Response(null, {
      status: 303,
      headers: {
        location: url.toString(),
        "set-cookie": `${loginCookieName(secure)}=${cookie}; Path=/; HttpOnly; SameSite=Lax; Max-Age=600${secure ? "; Secure" : ""}`,
        "cache-control": "no-store",
      },
    });
  } catch (e) {
    webLogger().error({ err: e }, "sign-in could not start: the identity provider does not answer");
    return to("/signin?error=provider");
  }
}
