import type { OperationErrorCode } from "./types";

/** Every failure of an environment operation, with a code the portal can act on and a message a person can read. */
export class EnvironmentOperationError extends Error {
  override readonly name = "EnvironmentOperationError";
  constructor(
    readonly code: OperationErrorCode,
    message: string,
    /** The CLI's own output or the original error, for logs. */
    readonly detail?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface CommandErrorLike {
  name: string;
  message: string;
  commandResult?: { stdout?: string; stderr?: string; code?: number; err?: unknown };
}

/** Lines of the CLI's output that say what went wrong (its "error:" lines and the diagnostics block). */
function errorLines(text: string): string {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /^error:|error: |^\s*\w+Error|failed to start/i.test(l) && !/^code: /.test(l));
  const unique = [...new Set(lines)];
  return unique.slice(0, 6).join("\n");
}

const BACKEND_UNREACHABLE = [
  /connection refused/i,
  /could not connect/i,
  /failed to connect to/i,
  /no such host/i,
  /dial tcp/i,
  /ECONNREFUSED/,
  /password authentication failed/i,
  /database ".*" does not exist/i,
  /opening postgres/i,
  /i\/o timeout/i,
];

/**
 * Maps any error from a Pulumi run to an `EnvironmentOperationError`. Works on the Automation API's error
 * classes by name (ConcurrentUpdateError, StackNotFoundError, CommandError) and on the CLI's output text.
 */
export function classifyError(
  err: unknown,
  context: { environment: string; aborted?: boolean },
): EnvironmentOperationError {
  if (err instanceof EnvironmentOperationError) return err;
  const e = (err ?? {}) as CommandErrorLike;
  const stderr = e.commandResult?.stderr ?? "";
  const stdout = e.commandResult?.stdout ?? "";
  const text = `${e.message ?? String(err)}\n${stderr}\n${stdout}`;
  const detail = [stderr, stdout].filter(Boolean).join("\n").trim() || e.message;
  const env = context.environment;
  const make = (code: OperationErrorCode, message: string) =>
    new EnvironmentOperationError(code, message, detail, { cause: err });

  if (context.aborted) return make("cancelled", `the operation on ${env} was cancelled`);
  if (e.name === "ConcurrentUpdateError" || /the stack is currently locked by/.test(text)) {
    return make("concurrent-operation", `another operation is running on ${env} (its stack is locked)`);
  }
  if (e.name === "StackNotFoundError" || /no stack named .* found/.test(text)) {
    return make("stack-not-found", `environment ${env} does not exist (no stack named ${env})`);
  }
  if (/ENOENT.*pulumi|pulumi: not found|spawn .*pulumi ENOENT/i.test(text)) {
    return make("cli-missing", "the Pulumi CLI was not found: run `npm run pulumi-cli -w @platform/infra`");
  }
  if (/Minimum version requirement failed|Failed to parse Pulumi CLI version/.test(text)) {
    return make("cli-too-old", `the Pulumi CLI is too old or unversioned: ${firstLine(e.message)}`);
  }
  if (/update canceled|operation canceled|context canceled/i.test(text) && /cancel/i.test(stderr)) {
    return make("cancelled", `the operation on ${env} was cancelled`);
  }
  if (
    BACKEND_UNREACHABLE.some((re) => re.test(stderr)) &&
    /postgres|backend|login|state|dial|database/i.test(stderr)
  ) {
    return make(
      "backend-unreachable",
      `the Pulumi state backend is unreachable: ${errorLines(stderr) || firstLine(stderr)}`,
    );
  }
  // A resource's provider reported the failure (our local processes, or AWS).
  const providerFailure = text.match(
    /error: (?:[^\n]*?)?(?:creating|updating|deleting|reading)[^\n]*|pulumi-nodejs:dynamic[^\n]*error[^\n]*/i,
  );
  if (
    /resource .* failed|error: .*\b(create|update|delete|read)\b failed|Error: [^\n]+ failed to start/i.test(
      text,
    ) ||
    providerFailure
  ) {
    return make("provider-error", `a resource of ${env} failed: ${errorLines(text) || firstLine(text)}`);
  }
  if (
    /Running program .* failed|an unhandled error occurred|program failed|TypeError|ReferenceError/i.test(
      text,
    )
  ) {
    return make("program-error", `the program of ${env} failed: ${errorLines(text) || firstLine(text)}`);
  }
  return make("unknown", `the operation on ${env} failed: ${errorLines(text) || firstLine(text)}`);
}

function firstLine(s: string): string {
  return (s ?? "").trim().split("\n")[0] ?? "";
}
