import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Builds dist/ once: several tests run the real `node dist/main.js`.
    globalSetup: ["test/helpers/build.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Real processes (redis-server, app, Chromium) on a 2-core machine: two files at a time at most.
    maxWorkers: 2,
  },
});
