import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Stand-ins (redis-server, dynalite, s3rver, workerd) are started per test file on free ports.
    // `npm test` runs test/bench (the short flash sale and chaos run, which stops and restarts
    // stand-ins and measures throughput) in a second pass on its own: beside the other files on
    // two cores, a stand-in restart once timed out in CI.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
