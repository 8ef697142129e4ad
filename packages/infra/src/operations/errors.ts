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

/** One resource's block in the CLI's "Diagnostics:" section. */
export interface DiagnosticBlock {
  type: string;
  name: string;
  lines: string[];
}

/** Parses the CLI's "Diagnostics:" section: `  <type> (<name>):` followed by indented lines. */
export function parseDiagnostics(text: string): DiagnosticBlock[] {
  const start = text.indexOf("\nDiagnostics:\n");
  if (start < 0) return [];
  const blocks: DiagnosticBlock[] = [];
  for (const line of text.slice(start + 14).split("\n")) {
    if (/^\S/.test(line)) break; // "Resources:", "Duration:" ... end the section
    const header = line.match(/^ {2}(\S+) \((.+)\):$/);
    if (header) blocks.push({ type: header[1] ?? "", name: header[2] ?? "", lines: [] });
    else if (line.startsWith("    ") && blocks.length > 0) blocks.at(-1)?.lines.push(line.slice(4));
  }
  return blocks;
}

/** `error: …` lines without the CLI's generic "update failed". */
function errorText(lines: string[], max = 12): string {
  const firstError = lines.findIndex(
    (l) => l.startsWith("error:") && !/^error: (update|preview|refresh|destroy) failed$/.test(l),
  );
  if (firstError < 0) return "";
  return lines
    .slice(firstError, firstError + max)
    .join("\n")
    .replace(/^error: /, "")
    .trim();
}

const BACKEND_UNREACHABLE =
  /unable to open state database|failed to ping PostgreSQL|could not connect to|dial tcp .*(connection refused|i\/o timeout|no such host)|password authentication failed|database ".*" does not exist|could not log in/i;

/**
 * Maps any error from a Pulumi run to an `EnvironmentOperationError`. Works on the Automation API's error
 * classes by name (ConcurrentUpdateError, StackNotFoundError, CommandError) and on the CLI's output: its
 * "Diagnostics:" section says which resource failed (a provider error) or that the program itself threw.
 */
export function classifyError(
  err: unknown,
  context: { environment: string; aborted?: boolean; subject?: "environment" | "network" },
): EnvironmentOperationError {
  if (err instanceof EnvironmentOperationError) return err;
  const e = (err ?? {}) as CommandErrorLike;
  const stderr = e.commandResult?.stderr ?? "";
  const stdout = e.commandResult?.stdout ?? "";
  const message = e.message ?? String(err);
  const text = `${message}\n${stderr}\n${stdout}`;
  const detail = [stderr, stdout].filter(Boolean).join("\n").trim() || message;
  const env = context.environment;
  const make = (code: OperationErrorCode, msg: string) =>
    new EnvironmentOperationError(code, msg, detail, { cause: err });

  if (context.aborted) return make("cancelled", `the operation on ${env} was cancelled`);
  if (e.name === "ConcurrentUpdateError" || /the stack is currently locked by/.test(text)) {
    const owner = text.match(/created by (\S+) \(pid (\d+)\) at (\S+)/);
    return make(
      "concurrent-operation",
      `another operation is running on ${env}${owner ? ` (locked by ${owner[1]}, pid ${owner[2]}, since ${owner[3]})` : ""}`,
    );
  }
  if (e.name === "StackNotFoundError" || /no stack named .* found/.test(text)) {
    return make(
      "stack-not-found",
      `${context.subject ?? "environment"} ${env} does not exist (no stack named ${env})`,
    );
  }
  if (/spawn \S*pulumi ENOENT|pulumi: (command )?not found/i.test(text)) {
    return make("cli-missing", "the Pulumi CLI was not found: run `npm run pulumi-cli -w @platform/infra`");
  }
  if (
    /Minimum version requirement failed|Failed to parse Pulumi CLI version|Major version mismatch/.test(text)
  ) {
    return make("cli-too-old", `the Pulumi CLI cannot be used: ${firstLine(message)}`);
  }
  if (BACKEND_UNREACHABLE.test(text)) {
    const line = text.split("\n").find((l) => BACKEND_UNREACHABLE.test(l)) ?? "";
    return make(
      "backend-unreachable",
      `the Pulumi state backend is unreachable: ${line.replace(/^error: /, "").trim()}`,
    );
  }
  const blocks = parseDiagnostics(stdout || stderr || message);
  const failedResources = blocks.filter((b) => b.type !== "pulumi:pulumi:Stack" && errorText(b.lines));
  if (failedResources.length > 0) {
    const what = failedResources.map((b) => `${b.name}: ${errorText(b.lines)}`).join("\n");
    return make("provider-error", `a resource of ${env} failed: ${what}`);
  }
  const stackBlock = blocks.find((b) => b.type === "pulumi:pulumi:Stack");
  const programFailure = stackBlock ? errorText(stackBlock.lines, 1) : "";
  if (programFailure || /Unhandled exception|Running program .* failed/.test(text)) {
    const line = programFailure || (text.match(/Unhandled exception: ([^\n]+)/)?.[1] ?? firstLine(message));
    return make(
      "program-error",
      `the program of ${env} failed: ${line.replace(/^Unhandled exception: /, "")}`,
    );
  }
  if (/cancel(l)?ed/i.test(stderr) && /interrupt|SIGINT|cancel/i.test(stderr)) {
    return make("cancelled", `the operation on ${env} was cancelled`);
  }
  if (/incorrect passphrase|failed to decrypt|passphrase must be set/i.test(text)) {
    return make(
      "unknown",
      `the secrets passphrase does not match the one ${env} was created with (check the configured passphrase)`,
    );
  }
  const lastError = text.split("\n").find((l) => l.startsWith("error: "));
  return make(
    "unknown",
    `the operation on ${env} failed: ${(lastError ?? firstLine(message)).replace(/^error: /, "")}`,
  );
}

function firstLine(s: string): string {
  return (s ?? "").trim().split("\n")[0] ?? "";
}
