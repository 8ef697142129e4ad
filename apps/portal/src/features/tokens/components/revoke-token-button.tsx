"use client";
// One token's Revoke button (a form posting the server action); its answer shows next to it.
import { useActionState } from "react";
import { revokeTokenAction, type TokenFormState } from "../actions";

const smallDanger =
  "rounded-md bg-rose-600 px-2 py-1 text-xs font-medium text-white shadow-sm hover:bg-rose-500 disabled:cursor-not-allowed disabled:opacity-60";

export function RevokeTokenButton({ id, name }: { id: string; name: string }) {
  const [state, action, pending] = useActionState<TokenFormState, FormData>(revokeTokenAction, {
    status: "idle",
  });
  return (
    <form action={action} className="flex flex-col items-start gap-1">
      <input type="hidden" name="id" value={id} />
      <button type="submit" disabled={pending} className={smallDanger} aria-label={`Revoke ${name}`}>
        {pending ? "Revoking…" : "Revoke"}
      </button>
      {state.message && (
        <span role={state.status === "ok" ? "status" : "alert"} className="text-xs text-slate-700">
          {state.message}
        </span>
      )}
    </form>
  );
}
