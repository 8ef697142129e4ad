// The web process's database role: it may use the portal's own tables and send queue jobs, and nothing else —
// in particular not the Pulumi state table (dynamic providers keep their code in the state, so whoever can
// write it can run code in the worker). The start command applies these grants after every migration run;
// `npm run db:roles -w @platform/portal` creates the role on an operator's PostgreSQL.
import pg from "pg";

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

export interface WebRoleCheck {
  role: string;
  /** Why this role must not serve the web process, or null when it is fine. */
  problem: string | null;
}

/** The grants of `role` (idempotent). Run as the owner of the portal's tables. */
export async function grantWebRole(ownerUrl: string, role: string, stateTable: string): Promise<void> {
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    const r = ident(role);
    await client.query("BEGIN");
    await client.query(`GRANT USAGE ON SCHEMA public TO ${r}`);
    await client.query(`GRANT SELECT, INSERT, UPDATE ON environments, operations, networks TO ${r}`);
    await client.query(`GRANT SELECT ON operation_events TO ${r}`);
    // Drift check results and the repairs cursor: the workers write them, the pages read them.
    await client.query(`GRANT SELECT ON environment_drift TO ${r}`);
    // The audit log: append and read, never change.
    await client.query(`GRANT SELECT, INSERT ON audit_events TO ${r}`);
    await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON rate_limits TO ${r}`);
    await client.query(`GRANT USAGE, SELECT ON SEQUENCE audit_events_id_seq TO ${r}`);
    // Tokens, the API's idempotency keys and webhooks are managed by the web process; webhook deliveries are
    // read there (the log), inserted there for test pings and by the trigger when a queued operation is cancelled.
    await client.query(`GRANT SELECT, INSERT, UPDATE ON api_tokens TO ${r}`);
    await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON api_idempotency_keys, webhooks TO ${r}`);
    await client.query(`GRANT SELECT, INSERT ON webhook_deliveries TO ${r}`);
    // pg-boss: the web process sends jobs (its schema exists: the start command made it).
    const boss = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = 'pgboss'");
    if (boss.rowCount) {
      await client.query(`GRANT USAGE ON SCHEMA pgboss TO ${r}`);
      await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA pgboss TO ${r}`);
      await client.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA pgboss TO ${r}`);
      // Queue partitions made later by the workers (as this owner) get the same grants.
      await client.query(
        `ALTER DEFAULT PRIVILEGES IN SCHEMA pgboss GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${r}`,
      );
    }
    // Explicitly none on the Pulumi state table (the CLI makes it; grants made by hand are taken back).
    const state = await client.query("SELECT to_regclass($1) AS t", [stateTable]);
    if (state.rows[0]?.t) await client.query(`REVOKE ALL ON ${ident(stateTable)} FROM ${r}, PUBLIC`);
    await client.query("COMMIT");
  } catch (e) {
    await client.query("ROLLBACK").catch(() => {});
    throw e;
  } finally {
    await client.end();
  }
}

/** Whether `webUrl`'s role is a safe web role: not a superuser, not the owner, no access to the state table. */
export async function checkWebRole(
  ownerUrl: string,
  webUrl: string,
  stateTable: string,
): Promise<WebRoleCheck> {
  const role = decodeURIComponent(new URL(webUrl).username);
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{
      super: boolean;
      owner: string;
      is_member: boolean;
      bypass: boolean;
    }>(
      `SELECT r.rolsuper AS super, r.rolbypassrls AS bypass, current_user AS owner,
              pg_has_role($1, current_user, 'MEMBER') AS is_member
         FROM pg_roles r WHERE r.rolname = $1`,
      [role],
    );
    const r = rows[0];
    if (!r) return { role, problem: `the role ${role} does not exist` };
    if (r.super) return { role, problem: `${role} is a superuser` };
    if (role === r.owner || r.is_member)
      return { role, problem: `${role} is (or is a member of) the owner role ${r.owner}` };
    const state = await client.query<{ readable: boolean }>(
      `SELECT has_table_privilege($1, $2, 'SELECT') OR has_table_privilege($1, $2, 'INSERT')
              OR has_table_privilege($1, $2, 'UPDATE') OR has_table_privilege($1, $2, 'DELETE') AS readable
         WHERE to_regclass($2) IS NOT NULL`,
      [role, stateTable],
    );
    if (state.rows[0]?.readable) return { role, problem: `${role} can read or write ${stateTable}` };
    return { role, problem: null };
  } finally {
    await client.end();
  }
}

/** Creates (or sets the password of) a login role for the web process. Needs CREATEROLE. */
export async function ensureLoginRole(adminUrl: string, role: string, password: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role]);
    const verb = exists.rowCount ? "ALTER" : "CREATE";
    // PASSWORD takes no bind parameters: quote it as a literal.
    const literal = `'${password.replaceAll("'", "''")}'`;
    await client.query(
      `${verb} ROLE ${ident(role)} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${literal}`,
    );
  } finally {
    await client.end();
  }
}

/** `url` with another user and password. */
export function withCredentials(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(password);
  return u.toString();
}
