import { defineConfig } from "vitest/config";

// The SDK's browser tests: Playwright drives Debian's Chromium against a real wrangler dev.
export default defineConfig({
  test: {
    name: "browser",
    root: import.meta.dirname,
    include: ["**/*.test.ts"],
    environment: "node",
    globalSetup: ["../../client-sdk/test/support/build.ts"],
    testTimeout: 60_000,
    hookTimeout: 90_000,
  },
});
