// "Drifted" next to an environment's status: it is not what was asked for (counts, or what a refresh or drift
// check found). The reasons are its tooltip and, for screen readers, part of its text.
export function DriftBadge({ reasons }: { reasons: string[] }) {
  return (
    <span
      data-testid="drift-badge"
      title={reasons.join(" ")}
      className="inline-flex items-center gap-1 rounded-full bg-amber-50 px-2 py-0.5 text-xs font-medium text-amber-900 ring-1 ring-amber-400 ring-inset"
    >
      <span aria-hidden>⚠</span>
      Drifted
      <span className="sr-only">: {reasons.join(" ")}</span>
    </span>
  );
}
