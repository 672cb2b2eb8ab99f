import { defineConfig } from "vitest/config";

// The core's own tests, in plain Node: the storage suite over better-sqlite3 and memory, and
// property tests of the log's invariants. No runtime but Node: the core needs none.
export default defineConfig({
  test: { name: "core", include: ["**/*.test.ts"], testTimeout: 30_000 },
});
