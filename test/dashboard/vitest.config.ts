import { defineConfig } from "vitest/config";

// The dashboard in Debian's Chromium (Playwright) against a real broker on each host, which
// serves the built dashboard at its own URL: wrangler dev (wrangler.toml [assets]) in *.test.ts,
// the Node host (edge/src/node/assets.ts) in node/*.test.ts; one suite each, in suites/.
export default defineConfig({
  test: {
    name: "dashboard",
    root: import.meta.dirname,
    include: ["**/*.test.ts"],
    environment: "node",
    globalSetup: ["../lib/build.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each file starts a broker and a browser; one at a time leaves the 2 cores to them.
    fileParallelism: false,
  },
});
