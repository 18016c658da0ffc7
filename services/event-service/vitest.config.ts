import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Suites start real brokers and gateway processes; two files at a time fits a two-core machine.
    maxWorkers: 2,
    env: { METADATA_SERVER_DETECTION: "none" },
    // The JSON report feeds the one-line summary that .ci/run prints.
    reporters: ["default", ["json", { outputFile: ".test-results/vitest.json" }]],
  },
});
