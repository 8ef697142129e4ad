// envctl: environments from a terminal or a CI pipeline, through the portal's API (/api/v1). Results go to
// stdout (JSON with --json); progress, logs and errors to stderr. Exit codes: 0 success, 1 the operation (or
// the portal) failed, 2 bad input, 3 refused by the portal (authentication, permission, quota, state, not found,
// rate limit).
import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline/promises";
import { Command, CommanderError, Option } from "commander";
import { PortalClient } from "./client.js";
import {
  configFile,
  normaliseUrl,
  readStoredConfig,
  removeStoredConfig,
  resolveConnection,
  writeStoredConfig,
} from "./config.js";
import { CliError, EXIT } from "./errors.js";
import { changesText, environmentDetail, environmentRows, operationLine } from "./format.js";
import { CREATE_OPTIONS, type FieldOption, fieldsFrom, parseSet, SCALE_OPTIONS } from "./options.js";
import { plainView, viewFor } from "./progress.js";
import type { CommandAnswer, Environment, EnvironmentList, EventList, Me, Operation } from "./types.js";
import { followOperation } from "./wait.js";

export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  env: NodeJS.ProcessEnv;
}

const VERSION = "0.1.0";
const enc = encodeURIComponent;
const envPath = (name: string) => `/api/v1/environments/${enc(name)}`;
const FAILED_STATUSES = new Set(["failed", "cancelled", "interrupted", "removed"]);

function addFieldOptions(cmd: Command, table: FieldOption[]): Command {
  for (const o of table) {
    const option = new Option(o.flags, o.description);
    if (o.parse) option.argParser(o.parse as (v: string) => unknown);
    cmd.addOption(option);
  }
  return cmd;
}

export function buildProgram(io: Io): { program: Command; outcome: { code: number } } {
  const outcome = { code: EXIT.ok as number };
  /** An action's return value is the exit code (nothing: success). */
  const act =
    <A extends unknown[]>(fn: (...args: A) => unknown) =>
    async (...args: A) => {
      const result = await fn(...args);
      outcome.code = typeof result === "number" ? result : EXIT.ok;
    };
  const out = (text: string) => io.stdout.write(`${text}\n`);
  const err = (text: string) => io.stderr.write(`${text}\n`);
  const json = (value: unknown) => out(JSON.stringify(value, null, 2));
  const client = () => {
    const c = resolveConnection(io.env);
    return new PortalClient({ ...c, userAgent: `envctl/${VERSION}` });
  };

  /** Waits for `op` (progress bar on a terminal, plain lines otherwise); returns the exit code. */
  async function waitFor(
    api: PortalClient,
    op: Operation,
    label: string,
  ): Promise<{ code: number; status: string; error: string | null }> {
    const end = await followOperation(api, op, viewFor(io.stderr, label));
    return { code: FAILED_STATUSES.has(end.status) ? EXIT.failed : EXIT.ok, ...end };
  }

  /** A write's answer: printed; with --wait, followed to the end and the environment printed as it is then. */
  async function finishCommand(
    api: PortalClient,
    answer: CommandAnswer,
    opts: { wait?: boolean; json?: boolean },
    verb: string,
  ): Promise<number> {
    const op = answer.operation;
    if (!opts.wait || !op) {
      if (opts.json) json(answer);
      else {
        out(answer.message);
        if (op) err(`Operation ${op.id}. Follow it: envctl logs ${op.environment} --follow`);
      }
      return EXIT.ok;
    }
    if (!opts.json) err(`${answer.message} Operation ${op.id}.`);
    const result = await waitFor(api, op, `${verb} ${op.environment}`);
    const [env, final] = await Promise.all([
      api.get<Environment>(envPath(op.environment)).catch(() => null),
      api.get<Operation>(op.links.self).catch(() => null),
    ]);
    if (opts.json) json({ environment: env, operation: final ?? op });
    else if (result.code === EXIT.ok) {
      out(
        `${verb} of ${op.environment} succeeded.${env?.status ? ` Status: ${env.status}.` : ""}${env?.frontendUrl && env.status === "ready" ? ` Frontend: ${env.frontendUrl}` : ""}`,
      );
    } else {
      err(`${verb} of ${op.environment} ${result.status}${result.error ? `: ${result.error}` : "."}`);
    }
    return result.code;
  }

  const program = new Command("envctl")
    .description("Create, scale and tear down voting-app environments through the portal's API.")
    .version(VERSION)
    .showHelpAfterError("(envctl --help shows every command)")
    .addHelpText(
      "after",
      "\nConnection: `envctl login`, or ENVCTL_URL and ENVCTL_TOKEN (pipelines).\nExit codes: 0 success, 1 operation failed, 2 bad input, 3 refused (auth, quota, state, not found).",
    );

  program
    .command("login")
    .description("check a portal URL and token and store them (config folder, mode 0600)")
    .option("--url <url>", "the portal's address (default: ENVCTL_URL, else asked)")
    .option(
      "--token <token>",
      "a personal access token, or - to read it from stdin (default: ENVCTL_TOKEN, else asked)",
    )
    .option("--json", "print the result as JSON")
    .action(
      act(async (opts: { url?: string; token?: string; json?: boolean }) => {
        const stored = readStoredConfig(io.env);
        const url = normaliseUrl(opts.url ?? io.env.ENVCTL_URL ?? (await ask(io, "Portal URL", stored.url)));
        let token = opts.token ?? io.env.ENVCTL_TOKEN;
        if (token === "-") token = (await readAll(io.stdin)).trim();
        if (!token) token = (await ask(io, `Token (create one at ${url}/tokens)`, undefined, true)).trim();
        if (!token) throw new CliError("No token given.", EXIT.badInput);
        const me = await new PortalClient({ url, token, userAgent: `envctl/${VERSION}` }).get<Me>(
          "/api/v1/me",
        );
        const file = writeStoredConfig({ url, token }, io.env);
        if (opts.json) json({ url, ...me, config: file });
        else {
          out(
            `Logged in to ${url} as ${me.name} (${me.role}${me.teams.length ? `, teams ${me.teams.join(", ")}` : ""}); token “${me.token.name}” (${me.token.scope}) expires ${me.token.expiresAt.slice(0, 10)}.`,
          );
          err(`Saved to ${file}.`);
        }
      }),
    );

  program
    .command("logout")
    .description("forget the stored URL and token")
    .action(
      act(() => {
        out(removeStoredConfig(io.env) ? `Removed ${configFile(io.env)}.` : "Not logged in.");
      }),
    );

  program
    .command("whoami")
    .description("who the token acts as")
    .option("--json", "print as JSON")
    .action(
      act(async (opts: { json?: boolean }) => {
        const api = client();
        const me = await api.get<Me>("/api/v1/me");
        if (opts.json) json(me);
        else
          out(
            `${me.name} (${me.role}${me.teams.length ? `, teams ${me.teams.join(", ")}` : ""}) at ${api.url}; token “${me.token.name}”, ${me.token.scope}, expires ${me.token.expiresAt.slice(0, 10)}`,
          );
      }),
    );

  program
    .command("list")
    .alias("ls")
    .description("list environments (default: all but destroyed)")
    .option("--all", "include destroyed environments")
    .option(
      "--status <status>",
      "only this status (queued, provisioning, ready, updating, failed, destroying, destroyed)",
    )
    .option("--mine", "only mine")
    .option("--json", "print as JSON")
    .action(
      act(async (opts: { all?: boolean; status?: string; mine?: boolean; json?: boolean }) => {
        const api = client();
        const q = new URLSearchParams({
          status: opts.status ?? (opts.all ? "all" : "active"),
          ...(opts.mine ? { mine: "true" } : {}),
        });
        const items: Environment[] = [];
        let next: string | null = `/api/v1/environments?${q}`;
        while (next) {
          const page: EnvironmentList = await api.get<EnvironmentList>(next);
          items.push(...page.items);
          next = page.next;
        }
        if (opts.json) json(items);
        else out(items.length ? environmentRows(items) : "No environments.");
      }),
    );

  program
    .command("get")
    .argument("<name>", "environment name")
    .description("show one environment")
    .option("--json", "print as JSON")
    .action(
      act(async (name: string, opts: { json?: boolean }) => {
        const api = client();
        const env = await api.get<Environment>(envPath(name));
        if (opts.json) json(env);
        else out(environmentDetail(env, api.url));
      }),
    );

  addFieldOptions(
    program
      .command("create")
      .argument("<name>", "environment name (3–20 lower-case letters, digits, hyphens)"),
    CREATE_OPTIONS,
  )
    .description("create an environment")
    .option(
      "--set <field=value>",
      "any other API field (repeatable), e.g. --set cacheKind=redis",
      parseSet,
      {},
    )
    .option("--wait", "wait until it is ready, showing progress and the live log")
    .option(
      "--idempotency-key <key>",
      "retry-safe key (default: a new one; a pipeline may pass e.g. its run id)",
    )
    .option("--json", "print as JSON")
    .action(
      act(async (name: string, opts: Record<string, unknown>) => {
        const api = client();
        const body: Record<string, unknown> = {
          name,
          target: "local",
          ...fieldsFrom(CREATE_OPTIONS, opts),
          ...(opts.set as object),
        };
        if (body.frontendReplicas === undefined || body.redisReplicas === undefined) {
          const me = await api.get<
            Me & { limits: { frontendReplicas: { default: number }; redisReplicas: { default: number } } }
          >("/api/v1/me");
          body.frontendReplicas ??= me.limits.frontendReplicas.default;
          body.redisReplicas ??= me.limits.redisReplicas.default;
        }
        const answer = await api.post<CommandAnswer>(
          "/api/v1/environments",
          body,
          (opts.idempotencyKey as string) ?? randomUUID(),
        );
        return await finishCommand(api, answer, opts, "create");
      }),
    );

  addFieldOptions(program.command("scale").argument("<name>", "environment name"), SCALE_OPTIONS)
    .description("scale an environment's tiers; --preview shows what would change without changing anything")
    .option("--preview", "only preview the change (waits for the preview and prints it)")
    .option("--wait", "wait until the scale is done")
    .option("--json", "print as JSON")
    .action(
      act(async (name: string, opts: Record<string, unknown>) => {
        const api = client();
        const body = fieldsFrom(SCALE_OPTIONS, opts);
        if (body.frontendReplicas === undefined && body.redisReplicas === undefined) {
          throw new CliError("Give --frontends and/or --redis.", EXIT.badInput);
        }
        if (body.frontendReplicas === undefined || body.redisReplicas === undefined) {
          const env = await api.get<Environment>(envPath(name));
          body.frontendReplicas ??= env.frontendReplicas.desired;
          body.redisReplicas ??= env.redisReplicas.desired;
        }
        const answer = await api.post<CommandAnswer>(`${envPath(name)}/scale`, {
          ...body,
          ...(opts.preview ? { preview: true } : {}),
        });
        if (!opts.preview) return await finishCommand(api, answer, opts, "scale");
        const op = answer.operation as Operation;
        const result = await followOperation(
          api,
          op,
          opts.json ? plainView(io.stderr, `preview ${name}`) : viewFor(io.stderr, `preview ${name}`),
        );
        const final = await api.get<Operation>(op.links.self);
        if (opts.json) json(final);
        else if (FAILED_STATUSES.has(result.status))
          err(`Preview ${result.status}${result.error ? `: ${result.error}` : "."}`);
        else
          out(
            `Preview of ${name} at ${body.frontendReplicas} frontends and ${body.redisReplicas} Redis nodes: ${changesText(final.changes)}. Nothing was changed.`,
          );
        return FAILED_STATUSES.has(result.status) ? EXIT.failed : EXIT.ok;
      }),
    );

  program
    .command("destroy")
    .argument("<name>", "environment name")
    .description("destroy an environment (every resource; the record stays until `envctl remove`)")
    .option("--yes", "confirm: destroy without asking")
    .option("--wait", "wait until it is destroyed")
    .option("--missing-ok", "succeed when there is no such environment (e.g. its time-to-live destroyed it)")
    .option("--json", "print as JSON")
    .action(
      act(
        async (
          name: string,
          opts: { yes?: boolean; wait?: boolean; json?: boolean; missingOk?: boolean },
        ) => {
          if (!opts.yes) throw new CliError(`Refusing to destroy ${name} without --yes.`, EXIT.badInput);
          const api = client();
          try {
            const answer = await api.post<CommandAnswer>(`${envPath(name)}/destroy`);
            return await finishCommand(api, answer, opts, "destroy");
          } catch (e) {
            if (opts.missingOk && e instanceof CliError && e.body?.code === "not-found") {
              if (opts.json) json({ environment: null, operation: null });
              else out(`There is no environment named ${name}: nothing to destroy.`);
              return EXIT.ok;
            }
            throw e;
          }
        },
      ),
    );

  for (const [verb, description] of [
    ["refresh", "read the real resources back into the environment's state"],
    ["reconcile", "make a drifted environment what was asked for again (an up with its requested counts)"],
    ["retry", "run the last failed, cancelled or interrupted operation again"],
    ["cancel", "cancel the queued or running operation"],
    ["remove", "remove a destroyed environment's record"],
  ] as const) {
    program
      .command(verb)
      .argument("<name>", "environment name")
      .description(description)
      .option("--wait", "wait until the operation ends")
      .option("--json", "print as JSON")
      .action(
        act(async (name: string, opts: { wait?: boolean; json?: boolean }) => {
          const api = client();
          const answer = await api.post<CommandAnswer>(`${envPath(name)}/${verb}`);
          return await finishCommand(
            api,
            answer,
            { ...opts, wait: opts.wait && verb !== "cancel" && verb !== "remove" },
            verb,
          );
        }),
      );
  }

  program
    .command("logs")
    .argument("<name>", "environment name")
    .description("print an operation's log (default: the last operation); --follow streams it until it ends")
    .option("--follow, -f", "keep streaming until the operation ends (exit 1 if it failed)")
    .option("--operation <id>", "another operation of the environment")
    .option("--json", "one JSON event per line")
    .action(
      act(async (name: string, opts: { follow?: boolean; operation?: string; json?: boolean }) => {
        const api = client();
        let op: Operation | null;
        if (opts.operation)
          op = await api.get<Operation>(`${envPath(name)}/operations/${enc(opts.operation)}`);
        else op = (await api.get<Environment>(envPath(name))).lastOperation;
        if (!op) {
          err(`${name} has no operations.`);
          return EXIT.ok;
        }
        if (!opts.json) err(operationLine(op));
        if (opts.follow) {
          const view = {
            log: (line: string) => out(line),
            progress: () => {},
            finish: () => {},
          };
          const jsonView = { ...view, log: (line: string) => out(JSON.stringify({ message: line })) };
          const end = await followOperation(api, op, opts.json ? jsonView : view);
          if (!opts.json) err(`${op.kind} ${end.status}${end.error ? `: ${end.error}` : ""}`);
          return FAILED_STATUSES.has(end.status) ? EXIT.failed : EXIT.ok;
        }
        let after: string | null = null;
        for (;;) {
          const page: EventList = await api.get<EventList>(
            `${op.links.events}?limit=1000${after ? `&after=${after}` : ""}`,
          );
          for (const e of page.items) out(opts.json ? JSON.stringify(e) : e.message);
          if (page.items.length < 1000) break;
          after = page.next;
        }
        return EXIT.ok;
      }),
    );

  return { program, outcome };
}

async function readAll(stream: NodeJS.ReadStream): Promise<string> {
  let text = "";
  for await (const chunk of stream) text += chunk;
  return text;
}

/** Asks on the terminal (hidden input for secrets); not on a terminal it is bad input. */
async function ask(io: Io, question: string, fallback?: string, secret = false): Promise<string> {
  if (!io.stdin.isTTY) {
    throw new CliError(
      `${question}: not given (use the option, or ENVCTL_URL / ENVCTL_TOKEN).`,
      EXIT.badInput,
    );
  }
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: true });
  if (secret) {
    const write = (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput;
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
      write.call(rl, s.startsWith(question) ? s : "");
    };
  }
  try {
    const answer = await rl.question(`${question}${fallback ? ` [${fallback}]` : ""}: `);
    if (secret) io.stderr.write("\n");
    return answer || fallback || "";
  } finally {
    rl.close();
  }
}

/** Runs envctl; returns the exit code. */
export async function main(
  argv: string[],
  io: Io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env },
): Promise<number> {
  const { program, outcome } = buildProgram(io);
  program.exitOverride();
  program.configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  for (const cmd of program.commands) {
    cmd.exitOverride();
    cmd.configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  }
  try {
    await program.parseAsync(argv);
    return outcome.code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    if (e instanceof CliError) {
      io.stderr.write(`envctl: ${e.message}\n`);
      if (e.body && argv.includes("--json"))
        io.stdout.write(`${JSON.stringify({ error: e.body }, null, 2)}\n`);
      return e.exitCode;
    }
    io.stderr.write(`envctl: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : e}\n`);
    return EXIT.failed;
  }
}
