import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 240_000,
    // The end-to-end test starts the portal (PostgreSQL, worker, real local environments): one file at a time.
    fileParallelism: false,
  },
});
