// Every error of /api/v1 has one JSON shape, { code, message, field?, fields? }, and each code one status.
import type { z } from "zod";
import type { CommandResult } from "../environments/commands";

export const API_ERROR_STATUS = {
  /** Malformed request: not JSON, a bad header. */
  "bad-request": 400,
  unauthenticated: 401,
  /** The owner's role does not allow it (e.g. another team's environment, a viewer writing). */
  forbidden: 403,
  /** A read-only token asked to change something. */
  "insufficient-scope": 403,
  /** A quota (environments per person/team/portal, replicas per environment, time-to-live). */
  quota: 403,
  "not-found": 404,
  /** Not possible in the environment's current state (e.g. scale while destroying). */
  refused: 409,
  /** Clashes with another request (a taken name, an operation requested at the same moment). */
  conflict: 409,
  "unsupported-media-type": 415,
  /** A field is invalid (see `field` and `fields`). */
  invalid: 422,
  /** The Idempotency-Key was used before with another request body. */
  "idempotency-key-reused": 422,
  "rate-limited": 429,
  internal: 500,
  unavailable: 503,
} as const;
export type ApiErrorCode = keyof typeof API_ERROR_STATUS;
export const API_ERROR_CODES = Object.keys(API_ERROR_STATUS) as ApiErrorCode[];

export interface ApiErrorBody {
  code: ApiErrorCode;
  message: string;
  /** The (first) request field the error is about. */
  field?: string;
  /** Every invalid field and its message (code `invalid`). */
  fields?: Record<string, string>;
}

export class ApiError extends Error {
  /** True when the command layer already recorded this refusal in the audit log. */
  audited = false;

  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly field?: string,
    readonly fields?: Record<string, string>,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  get status(): number {
    return API_ERROR_STATUS[this.code];
  }

  get body(): ApiErrorBody {
    return {
      code: this.code,
      message: this.message,
      ...(this.field ? { field: this.field } : {}),
      ...(this.fields ? { fields: this.fields } : {}),
    };
  }
}

/** A zod failure as `invalid` with every field's first message. */
export function invalidInput(error: z.ZodError, where: "body" | "query" = "body"): ApiError {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      // Rejected rather than ignored: a misspelt or newer option must not be dropped silently.
      for (const key of issue.keys) fields[key] ??= `Unknown field “${key}”: this portal does not accept it.`;
      continue;
    }
    const key = issue.path.map(String).join(".") || where;
    if (!(key in fields)) fields[key] = issue.message;
  }
  const [field, message] = Object.entries(fields)[0] ?? [where, "Invalid request."];
  const more = Object.keys(fields).length - 1;
  return new ApiError(
    "invalid",
    `${field}: ${message}${more > 0 ? ` (and ${more} more)` : ""}`,
    field,
    fields,
  );
}

/** A refused command as an API error. */
export function commandError(result: Extract<CommandResult, { ok: false }>): ApiError {
  // The rate limit's refusal says when to try again ("… try again in 12 s.").
  const wait = result.code === "rate-limited" ? /in (\d+) s\b/.exec(result.message)?.[1] : undefined;
  const error = new ApiError(
    result.code,
    result.message,
    result.field,
    undefined,
    wait ? { "retry-after": wait } : {},
  );
  error.audited = true; // every command audits its refusals itself
  return error;
}
