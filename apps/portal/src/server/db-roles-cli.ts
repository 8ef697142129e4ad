// `npm run db:roles -w @platform/portal -- [role]`: on an operator's PostgreSQL, creates (or resets the password
// of) the web process's login role, grants it what the web process needs (and nothing on the Pulumi state
// table), and prints the WEB_DATABASE_URL to configure. DATABASE_URL must be the owner of the portal's tables
// (the role migrations run as) and have CREATEROLE. Run it after the first start (the tables must exist).
import { randomBytes } from "node:crypto";
import { applyMigrations } from "@platform/db";
import { checkWebRole, ensureLoginRole, grantWebRole, withCredentials } from "./db-roles";
import { ConfigError, config as loadConfig } from "./env";
import { startQueue } from "./queue";

async function main() {
  const c = loadConfig();
  if (!c.DATABASE_URL) throw new ConfigError("DATABASE_URL (the owner of the portal's tables) is not set");
  const role = process.argv[2] ?? "portal_web";
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role)) throw new ConfigError(`not a role name: ${role}`);
  await applyMigrations(c.DATABASE_URL);
  const boss = await startQueue(c.DATABASE_URL, { role: "sender" });
  await boss.stop({ graceful: false, wait: true });
  const password = randomBytes(24).toString("base64url");
  await ensureLoginRole(c.DATABASE_URL, role, password);
  await grantWebRole(c.DATABASE_URL, role, c.PULUMI_STATE_TABLE);
  const webUrl = withCredentials(c.DATABASE_URL, role, password);
  const check = await checkWebRole(c.DATABASE_URL, webUrl, c.PULUMI_STATE_TABLE);
  if (check.problem) throw new Error(check.problem);
  console.log(`WEB_DATABASE_URL=${webUrl}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
