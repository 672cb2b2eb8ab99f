import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Not a project of the root config: test/e2e/durable-streams-conformance.test.ts runs this
// in a child vitest and checks its count, so the suite's known failures do not fail `npm test`.
export default defineConfig({
  test: {
    name: "conformance",
    include: ["conformance/**/*.test.ts"],
    root: fileURLToPath(new URL("..", import.meta.url)),
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
