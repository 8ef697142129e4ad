// Config for the AWS program's tests (Pulumi mocks only; no CLI, no AWS, no Docker).
// Run from packages/infra: npx vitest run --config test/aws/vitest.config.ts
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: new URL("../..", import.meta.url).pathname,
    include: ["test/aws/**/*.test.ts"],
    // The Pulumi runtime's mocks are module-global state: each test file gets its own module graph.
    isolate: true,
    testTimeout: 30_000,
  },
});
