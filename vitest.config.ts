import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    // The CLI runs from dist/: build it once per run (test/build-dist.setup.ts).
    globalSetup: ["test/build-dist.setup.ts", "test/hostile/hostile-table.setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores here and in CI: forks keep native modules (dynalite's leveldb) isolated.
    pool: "forks",
  },
});
