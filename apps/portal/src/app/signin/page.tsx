import type { Metadata } from "next";
import Link from "next/link";
import { redirect } from "next/navigation";
import { safeReturnPath } from "../../server/auth/oidc";
import { config } from "../../server/env";
import { currentResolution } from "../../server/identity";

export const metadata: Metadata = { title: "Sign in" };
export const dynamic = "force-dynamic";

const ERRORS: Record<string, string> = {
  failed: "Sign-in failed: the identity provider's answer could not be verified. Try again.",
  provider: "The identity provider cannot be reached right now. Try again in a moment.",
  "no-role": "You signed in, but you belong to none of the portal's groups. Ask an admin for access.",
};

/** Where pages send people who are not signed in. Says why, and (oidc) offers the sign-in button. */
export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const params = await searchParams;
  const next = safeReturnPath(typeof params.next === "string" ? params.next : "/");
  const resolution = await currentResolution();
  if (resolution.ok) redirect(next);
  const c = config();
  const error = typeof params.error === "string" ? ERRORS[params.error] : undefined;
  return (
    <div className="mx-auto max-w-md space-y-6 rounded-lg border border-slate-200 bg-white p-8 shadow-sm">
      <h1 className="text-2xl font-semibold tracking-tight">Sign in</h1>
      {params.signedOut && (
        <p
          role="status"
          className="rounded-md border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-800"
        >
          You are signed out.
        </p>
      )}
      {error && (
        <p
          role="alert"
          className="rounded-md border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-800"
        >
          {error}
        </p>
      )}
      {c.AUTH_MODE === "oidc" ? (
        <>
          <p className="text-sm text-slate-600">
            Use your company account to create and manage environments.
          </p>
          <Link
            href={`/auth/login?next=${encodeURIComponent(next)}`}
            prefetch={false}
            className="inline-block rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white shadow-sm hover:bg-indigo-500"
          >
            Sign in with your company account
          </Link>
        </>
      ) : (
        <p className="text-sm text-slate-700" data-testid="signin-reason">
          {resolution.reason}{" "}
          {c.AUTH_MODE === "proxy-jwt" && "Open the portal through your company's sign-in proxy."}
        </p>
      )}
    </div>
  );
}
