import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "sdk",
    root: import.meta.dirname,
    include: ["test/**/*.test.ts"],
    environment: "node",
    // test/dist.test.ts loads the built bundle.
    globalSetup: ["test/support/build.ts"],
    // Integration files start their own wrangler dev each (with its own ports and state).
    testTimeout: 60_000,
    hookTimeout: 90_000,
  },
});
