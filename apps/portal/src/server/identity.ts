// Who is asking, for pages, server actions and routes (Next.js side). The work is in auth/resolvers.ts (one
// resolver per AUTH_MODE); here only the request plumbing: pages without a principal redirect to the sign-in
// page, routes answer 401, and server actions get a message (see features/environments/actions.ts).
import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";
import { cache } from "react";
import type { Principal } from "../shared/access";
import type { Resolution } from "./auth/principal";
import { type RequestLike, resolverFor } from "./auth/resolvers";
import { config } from "./env";

const resolver = () => {
  const holder = globalThis as unknown as { __portalResolver?: ReturnType<typeof resolverFor> };
  holder.__portalResolver ??= resolverFor(config());
  return holder.__portalResolver;
};

/** The current request's identity (once per request). */
export const currentResolution = cache(async (): Promise<Resolution> => {
  const [h, jar] = await Promise.all([headers(), cookies()]);
  return await resolver().resolve({ header: (n) => h.get(n), cookie: (n) => jar.get(n)?.value });
});

export async function currentPrincipal(): Promise<Principal | null> {
  const r = await currentResolution();
  return r.ok ? r.principal : null;
}

/** For pages: the principal, or a redirect to the sign-in page (which comes back to `returnTo`). */
export async function requirePrincipal(returnTo = "/"): Promise<Principal> {
  const principal = await currentPrincipal();
  if (!principal) redirect(`/signin?next=${encodeURIComponent(returnTo)}`);
  return principal;
}

/** For route handlers: the principal, or a 401 answer saying why. */
export async function routePrincipal(request: Request): Promise<Principal | Response> {
  const cookieHeader = request.headers.get("cookie") ?? "";
  const jar = new Map(
    cookieHeader
      .split(";")
      .map((c) => c.trim().split("="))
      .filter((kv) => kv.length >= 2)
      .map(([k, ...v]) => [k as string, decodeURIComponent(v.join("="))]),
  );
  const req: RequestLike = { header: (n) => request.headers.get(n), cookie: (n) => jar.get(n) };
  const r = await resolver().resolve(req);
  if (r.ok) return r.principal;
  return Response.json(
    { error: "unauthenticated", message: r.reason },
    { status: 401, headers: { "cache-control": "no-store" } },
  );
}

/** Where the request came from, as the proxies in front reported it (recorded in the audit log). */
export async function clientAddress(): Promise<string | undefined> {
  return addressFrom((await headers()).get("x-forwarded-for"));
}
export const addressFrom = (forwardedFor: string | null) => forwardedFor?.slice(0, 200) || undefined;
