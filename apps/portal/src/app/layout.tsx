import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { currentUser } from "../server/identity";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Environments", template: "%s · Environments" },
  description: "Create, scale and tear down voting-app environments",
};

export const dynamic = "force-dynamic";

export default async function RootLayout({ children }: { children: ReactNode }) {
  const user = await currentUser();
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
          <div className="mx-auto flex max-w-6xl items-center justify-between gap-4 px-6 py-3">
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
              <nav aria-label="Main" className="flex gap-4 text-sm">
                <Link href="/" className="rounded px-1 text-slate-600 hover:text-slate-900">
                  All environments
                </Link>
                <Link href="/environments/new" className="rounded px-1 text-slate-600 hover:text-slate-900">
                  New environment
                </Link>
              </nav>
            </div>
            <p className="text-sm text-slate-500">
              Signed in as{" "}
              <span className="font-medium text-slate-700" data-testid="current-user">
                {user}
              </span>
            </p>
          </div>
        </header>
        <main id="main" className="mx-auto max-w-6xl px-6 py-8">
          {children}
        </main>
      </body>
    </html>
  );
}
