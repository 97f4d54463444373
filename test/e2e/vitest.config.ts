import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * Browser tests (`npm run test:e2e` → scripts/e2e.ts). Kept out of `npm test`: the root config only
 * includes *.test.ts. One file at a time: each drives a real three-provider cluster and Chromium.
 */
export default defineConfig({
  root: resolve(dirname(fileURLToPath(import.meta.url)), "../.."),
  test: {
    include: ["test/e2e/**/*.e2e.ts"],
    testTimeout: 90_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    maxWorkers: 1,
  },
});
