// Creates the real environment operations (@platform/infra, Pulumi Automation API) for the worker process.
// Pulumi state lives in the portal's own database (DIY PostgreSQL backend, table PULUMI_STATE_TABLE).
import path from "node:path";
import type { PortalConfig } from "../env";
import type { EnvironmentOperations } from "./operations-contract";

/** The Pulumi DIY backend URL for `databaseUrl`: same database, its own table, no TLS (lib/pq default is require). */
export function pulumiBackendUrl(databaseUrl: string, table: string): string {
  const u = new URL(databaseUrl.replace(/^postgresql:/, "postgres:"));
  u.searchParams.set("sslmode", u.searchParams.get("sslmode") ?? "disable");
  u.searchParams.set("table", table);
  return u.toString();
}

export async function createRealOperations(
  config: PortalConfig,
  databaseUrl: string,
): Promise<EnvironmentOperations> {
  // Loaded only here, in the worker (a plain Node process): Pulumi serialises dynamic providers with their
  // closures, which code bundled by Next cannot provide.
  const infra = await import("@platform/infra");
  return infra.createEnvironmentOperations({
    backendUrl: pulumiBackendUrl(databaseUrl, config.PULUMI_STATE_TABLE),
    // PULUMI_CONFIG_PASSPHRASE, else one generated on first use into <DATA_DIR>/pulumi-passphrase (mode 0600).
    passphrase: config.PULUMI_CONFIG_PASSPHRASE ?? infra.localPassphrase(config.DATA_DIR),
    // Each local environment's supervisor, configs and logs: <DATA_DIR>/environments/<name>/.
    dataDir: path.join(config.DATA_DIR, "environments"),
    // The Automation API's workspaces: under the data folder (mode 0700), never in a shared temp folder.
    workspacesDir: path.join(config.DATA_DIR, "pulumi-workspaces"),
  });
}
