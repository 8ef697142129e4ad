// `npm run token:create -w @platform/portal -- --user EMAIL [--role admin|member|viewer] [--group TEAM]...
//  [--name NAME] [--scope read|write] [--days N] [--json]`
// Creates a personal access token from the server's shell: the way to the first admin token (e.g. for a CI
// pipeline) before anyone has signed in, or when the sign-in provider is down. The token acts as `--user` with
// the groups given (`--role` adds the first group of ADMIN_GROUPS, MEMBER_GROUPS or VIEWER_GROUPS; `--group`
// adds teams), exactly as if that person had signed in with them. Prints the token alone on stdout (so
// `TOKEN=$(npm run -s token:create …)` works) and what it made on stderr. Audited as `shell:<os user>`.
import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { createDbClient } from "@platform/db";
import { z } from "zod";
import { createToken } from "../features/tokens/tokens";
import { TOKEN_SCOPES } from "../shared/token-schemas";
import { withPortalDatabase } from "./admin-database";
import { principalFrom } from "./auth/principal";
import { ConfigError, config as loadConfig } from "./env";

const USAGE =
  "usage: npm run token:create -w @platform/portal -- --user EMAIL [--role admin|member|viewer] [--group TEAM]... [--name NAME] [--scope read|write] [--days N] [--json]";

async function main(): Promise<void> {
  const c = loadConfig();
  const { values } = parseArgs({
    options: {
      user: { type: "string" },
      role: { type: "string" },
      group: { type: "string", multiple: true },
      name: { type: "string" },
      scope: { type: "string" },
      days: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const args = z
    .object({
      user: z.string().trim().min(1, "--user is required (the person the token acts as, e.g. an e-mail)"),
      role: z
        .enum(["admin", "member", "viewer"], { message: "--role is admin, member or viewer" })
        .optional(),
      group: z.array(z.string().trim().min(1)).default([]),
      name: z.string().trim().min(1).max(100).default("bootstrap"),
      scope: z.enum(TOKEN_SCOPES, { message: "--scope is read or write" }).default("write"),
      days: z.coerce
        .number({ message: "--days must be a number" })
        .int("--days must be a whole number")
        .min(1, "--days: at least 1")
        .max(c.TOKEN_MAX_DAYS, `--days: at most ${c.TOKEN_MAX_DAYS} (TOKEN_MAX_DAYS)`)
        .default(Math.min(30, c.TOKEN_MAX_DAYS)),
    })
    .safeParse(values);
  if (!args.success) throw new ConfigError(`${args.error.issues.map((i) => i.message).join("; ")}\n${USAGE}`);
  const a = args.data;
  const roleGroup = { admin: c.ADMIN_GROUPS, member: c.MEMBER_GROUPS, viewer: c.VIEWER_GROUPS };
  const groups = [...new Set([...(a.role ? roleGroup[a.role].slice(0, 1) : []), ...a.group])];
  const who = principalFrom(
    { subject: a.user, email: a.user.includes("@") ? a.user : undefined, name: a.user, groups },
    "token",
    c,
  );
  if (!who.ok) throw new ConfigError(`${who.reason}\nGive --role (or --group with a role group).`);
  const shellUser = `shell:${userInfo().username}`;
  const made = await withPortalDatabase(c, async (url) => {
    const db = createDbClient(url, { poolSize: 1 });
    try {
      return await createToken(db, {
        owner: who.principal,
        name: a.name,
        scope: a.scope,
        expiresInDays: a.days,
        createdBy: shellUser,
        actor: { id: shellUser, name: shellUser, role: "admin" },
      });
    } finally {
      await db.$disconnect();
    }
  });
  const r = made.record;
  if (values.json) {
    console.log(
      JSON.stringify({
        token: made.token,
        id: r.id,
        owner: r.owner,
        role: who.principal.role,
        teams: who.principal.teams,
        scope: r.scope,
        expiresAt: r.expiresAt.toISOString(),
      }),
    );
    return;
  }
  console.error(
    `Created token “${r.name}” for ${r.owner} (role ${who.principal.role}${who.principal.teams.length ? `, teams ${who.principal.teams.join(", ")}` : ""}), scope ${r.scope}, expires ${r.expiresAt.toISOString()}. It is shown only now:`,
  );
  console.log(made.token);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e instanceof ConfigError ? e.message : e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(
      e instanceof ConfigError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ? 2 : 1,
    );
  },
);
