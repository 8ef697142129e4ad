import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { config } from "../server/env";
import { currentPrincipal } from "../server/identity";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Environments", template: "%s · Environments" },
  description: "Create, scale and tear down voting-app environments",
};

export const dynamic = "force-dynamic";

export default async function RootLayout({ children }: { children: ReactNode }) {
  const principal = await currentPrincipal();
  const canCreate = principal && principal.role !== "viewer";
  return (
    <html lang="en">
      <body className="min-h-screen font-sans">
        <a
          href="#main"
          className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:bg-white focus:p-2"
        >
          Skip to content
        </a>
        <header className="border-b border-slate-200 bg-white">
          {/* Wider than the pages' content: seven menu entries and the person fit on one line at 1366 px. */}
          <div className="mx-auto flex max-w-7xl items-center justify-between gap-4 px-6 py-3">
            <div className="flex items-center gap-6">
              <Link href="/" className="flex items-center gap-2 font-semibold text-slate-900">
                <span
                  aria-hidden
                  className="grid h-7 w-7 place-items-center rounded-md bg-indigo-600 text-sm text-white"
                >
                  E
                </span>
                Environments
              </Link>
              {principal && (
                <nav aria-label="Main" className="flex flex-wrap gap-x-4 gap-y-1 text-sm">
                  <Link href="/" className="rounded px-1 text-slate-600 hover:text-slate-900">
                    All environments
                  </Link>
                  {canCreate && (
                    <Link
                      href="/environments/new"
                      className="rounded px-1 text-slate-600 hover:text-slate-900"
                    >
                      New environment
                    </Link>
                  )}
                  <Link href="/networks" className="rounded px-1 text-slate-600 hover:text-slate-900">
                    Networks
                  </Link>
                  <Link href="/tokens" className="rounded px-1 text-slate-600 hover:text-slate-900">
                    Tokens
                  </Link>
                  <Link href="/webhooks" className="rounded px-1 text-slate-600 hover:text-slate-900">
                    Webhooks
                  </Link>
                  <Link href="/api-reference" className="rounded px-1 text-slate-600 hover:text-slate-900">
                    API
                  </Link>
                  {principal.role === "admin" && (
                    <Link href="/audit" className="rounded px-1 text-slate-600 hover:text-slate-900">
                      Audit log
                    </Link>
                  )}
                </nav>
              )}
            </div>
            {principal && (
              <div className="flex items-center gap-3 text-sm text-slate-600">
                <p className="xl:whitespace-nowrap">
                  Signed in as{" "}
                  <span
                    className="font-medium text-slate-800"
                    data-testid="current-user"
                    title={principal.id}
                  >
                    {principal.name}
                  </span>{" "}
                  <span
                    className="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-700"
                    data-testid="current-role"
                  >
                    {principal.role}
                  </span>
                </p>
                {config().AUTH_MODE === "oidc" && (
                  <form method="post" action="/auth/signout">
                    <button
                      type="submit"
                      className="rounded-md border border-slate-300 px-2 py-1 text-slate-700 hover:bg-slate-50"
                    >
                      Sign out
                    </button>
                  </form>
                )}
              </div>
            )}
          </div>
        </header>
        <main id="main" className="mx-auto max-w-6xl px-6 py-8">
          {children}
        </main>
      </body>
    </html>
  );
}
