// Creates the real environment operations (@platform/infra, Pulumi Automation API) for the worker process.
// Pulumi state lives in the portal's own database (DIY PostgreSQL backend, table PULUMI_STATE_TABLE).
import path from "node:path";
import type { PortalConfig } from "../env";
import type { EnvironmentOperations, NetworkOperations } from "./operations-contract";

/** The Pulumi DIY backend URL for `databaseUrl`: same database, its own table, no TLS (lib/pq default is require). */
export function pulumiBackendUrl(databaseUrl: string, table: string): string {
  const u = new URL(databaseUrl.replace(/^postgresql:/, "postgres:"));
  u.searchParams.set("sslmode", u.searchParams.get("sslmode") ?? "disable");
  u.searchParams.set("table", table);
  return u.toString();
}

/**
 * The environments' and the shared networks' operations, on one engine (one state backend connection, one
 * passphrase, one PULUMI_HOME).
 */
export async function createRealOperations(
  config: PortalConfig,
  databaseUrl: string,
): Promise<{ environments: EnvironmentOperations; networks: NetworkOperations }> {
  // Loaded only here, in the worker (a plain Node process): Pulumi serialises dynamic providers with their
  // closures, which code bundled by Next cannot provide.
  const infra = await import("@platform/infra");
  return infra.createPlatformOperations({
    backendUrl: pulumiBackendUrl(databaseUrl, config.PULUMI_STATE_TABLE),
    // PULUMI_CONFIG_PASSPHRASE, else one generated on first use into <DATA_DIR>/pulumi-passphrase (mode 0600).
    passphrase: config.PULUMI_CONFIG_PASSPHRASE ?? infra.localPassphrase(config.DATA_DIR),
    // Each local environment's supervisor, configs and logs: <DATA_DIR>/environments/<name>/.
    dataDir: path.join(config.DATA_DIR, "environments"),
    // The Automation API's workspaces: under the data folder (mode 0700), never in a shared temp folder.
    workspacesDir: path.join(config.DATA_DIR, "pulumi-workspaces"),
    // Plugins preinstalled in the portal's image live in PULUMI_HOME (default: under the data folder).
    pulumiHome: config.PULUMI_HOME,
    // AWS environments run this prebuilt voting-app image (no Docker in the worker) under this boundary.
    awsFrontendImage: config.VOTING_APP_IMAGE,
    awsRoleBoundaryArn: config.AWS_ENVIRONMENT_ROLE_BOUNDARY,
  });
}
