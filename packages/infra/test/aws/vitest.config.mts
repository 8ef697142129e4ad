// Config for the AWS program's tests (Pulumi mocks only; no CLI, no AWS, no Docker).
// Run from packages/infra: npx vitest run --config test/aws/vitest.config.ts
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: new URL("../..", import.meta.url).pathname,
    include: ["test/aws/**/*.test.ts"],
    // The Pulumi runtime's mocks are process-global state: one file at a time per worker, files isolated.
    isolate: true,
    testTimeout: 30_000,
  },
});
