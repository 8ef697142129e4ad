import { defineConfig } from "vitest/config";

// The end-to-end tests drive the real Pulumi CLI, real processes and a real PostgreSQL: slow, and they share
// one machine's ports and CPU, so files run one after another.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 180_000,
    reporters: ["default"],
  },
});
