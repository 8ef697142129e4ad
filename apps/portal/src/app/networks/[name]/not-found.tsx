"use client";
// An unknown network: a message naming it (answered with status 404), never an error page.
import Link from "next/link";
import { useParams } from "next/navigation";

export default function NetworkNotFound() {
  const params = useParams<{ name?: string }>();
  const name = decodeURIComponent(params?.name ?? "");
  return (
    <div
      className="mx-auto max-w-xl rounded-lg border border-slate-200 bg-white p-8 text-center shadow-sm"
      data-testid="network-missing"
    >
      <h1 className="text-xl font-semibold">No network named “{name}”</h1>
      <p className="mt-2 text-sm text-slate-600">It may have been removed, or the link is mistyped.</p>
      <Link href="/networks" className="mt-4 inline-block text-sm font-medium text-indigo-700 underline">
        Back to the networks
      </Link>
    </div>
  );
}
