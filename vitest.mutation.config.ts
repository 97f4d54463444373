import { defineConfig } from "vitest/config";

/** What `npm run mutation` runs against each mutant of shared/quorum and shared/seats: their unit
 * tests and the simulator (with SIM_RUNS seeds), nothing that starts a stand-in. */
export default defineConfig({
  test: {
    include: [
      "test/quorum/**/*.test.ts",
      "test/seats/**/*.test.ts",
      "test/scripts/sim/**/*.test.ts",
    ],
    testTimeout: 120_000,
  },
});
