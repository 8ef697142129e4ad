"use client";
// Last resort when a page cannot render (e.g. the database is down): a message and a retry, no stack trace.
export default function ErrorPage({ reset }: { error: Error; reset: () => void }) {
  return (
    <div
      role="alert"
      className="mx-auto max-w-xl rounded-lg border border-rose-200 bg-white p-8 text-center shadow-sm"
    >
      <h1 className="text-xl font-semibold">The portal could not load this page</h1>
      <p className="mt-2 text-sm text-slate-600">The database may be unavailable. Nothing was changed.</p>
      <button
        type="button"
        onClick={reset}
        className="mt-4 rounded-md border border-slate-300 px-3 py-2 text-sm font-medium"
      >
        Try again
      </button>
    </div>
  );
}
