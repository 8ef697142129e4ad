// Prisma CLI configuration: migrations run in the WebAssembly schema engine through a driver adapter, so the
// CLI needs no native engine download (this machine reaches package registries only).
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "prisma/config";
import { createMigrationAdapter } from "./src/migrate-adapter.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

// The CLI checks that native engines exist before it reads the config's engine choice; with `engine: "js"`
// they are never run, so any existing file satisfies the check.
for (const name of ["PRISMA_SCHEMA_ENGINE_BINARY", "PRISMA_QUERY_ENGINE_LIBRARY"]) {
  const current = process.env[name];
  if (!current || !existsSync(current)) process.env[name] = path.join(here, "package.json");
}

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: path.join(here, "schema.prisma"),
  migrations: { path: path.join(here, "migrations") },
  adapter: async () => {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error("DATABASE_URL is not set (postgres://user:pass@host:port/db)");
    return createMigrationAdapter(url);
  },
});
