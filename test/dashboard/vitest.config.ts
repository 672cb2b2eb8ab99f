import { defineConfig } from "vitest/config";

// The dashboard in Debian's Chromium (Playwright) against a real wrangler dev, which serves the
// built dashboard (wrangler.toml [assets]) at the broker's own URL.
export default defineConfig({
  test: {
    name: "dashboard",
    root: import.meta.dirname,
    include: ["**/*.test.ts"],
    environment: "node",
    globalSetup: ["./build.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each file starts a broker and a browser; one at a time leaves the 2 cores to them.
    fileParallelism: false,
  },
});
