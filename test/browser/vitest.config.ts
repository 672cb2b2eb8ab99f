import { defineConfig } from "vitest/config";

// The SDK's browser tests: Playwright drives Debian's Chromium against a real broker on each
// host: wrangler dev in *.test.ts, the Node host (edge/dist-node) in node/*.test.ts; one
// suite each, in suites/.
export default defineConfig({
  test: {
    name: "browser",
    root: import.meta.dirname,
    include: ["**/*.test.ts"],
    environment: "node",
    globalSetup: ["../../client-sdk/test/support/build.ts", "../lib/build.ts"],
    testTimeout: 60_000,
    hookTimeout: 90_000,
  },
});
