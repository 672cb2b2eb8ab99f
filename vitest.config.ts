import { defineConfig } from "vitest/config";

// Vitest 4 has no workspace file: each package's config is a project here.
export default defineConfig({
  test: {
    projects: [
      "protocol/vitest.config.ts",
      "edge/vitest.config.ts",
      "test/vitest.config.ts",
      "test/reliability/vitest.config.ts",
      "test/dashboard/vitest.config.ts",
      "client-sdk/vitest.config.ts",
      "test/browser/vitest.config.ts",
      "test/workers/vitest.config.ts",
      "edge/test-core/vitest.config.ts",
      "test/node/vitest.config.ts",
    ],
  },
});
