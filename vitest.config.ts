import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Stand-ins (redis-server, dynalite, s3rver, workerd) are started per test file on free ports.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
