// envctl's exit codes: what a pipeline can branch on.
export const EXIT = {
  ok: 0,
  /** The operation failed (or was cancelled or interrupted), or the portal could not be reached or failed. */
  failed: 1,
  /** Bad input: unknown option, invalid value, not logged in, or the portal rejected a field (400/415/422). */
  badInput: 2,
  /** Refused by the portal: authentication (401), permission, scope or quota (403), not found (404), not possible
   * in the environment's state (409), rate limit (429). */
  refused: 3,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    /** The portal's error body, when there was one (printed with --json). */
    readonly body?: { code: string; message: string; field?: string; fields?: Record<string, string> },
  ) {
    super(message);
  }
}

/** The exit code for an API error status. */
export function exitCodeForStatus(status: number): number {
  if (status === 400 || status === 415 || status === 422) return EXIT.badInput;
  if (status === 401 || status === 403 || status === 404 || status === 409 || status === 429)
    return EXIT.refused;
  return EXIT.failed;
}
