import { defineConfig } from "vitest/config";

// Reliability suites (test/suites: crash, chaos, slow consumer, fuzz) over real brokers of
// both hosts: `*.test.ts` on wrangler dev, `node/*.test.ts` on the Node host (after
// `npm run build`); hibernation on wrangler dev only. Small sizes here (`npm test`, CI);
// `npm run soak` runs the same files with KAITEN_SOAK=1 and long sizes (sizes.ts).
const soak = process.env.KAITEN_SOAK === "1";

export default defineConfig({
  test: {
    name: "reliability",
    root: import.meta.dirname,
    include: ["**/*.test.ts"],
    environment: "node",
    testTimeout: soak ? 1_800_000 : 120_000,
    hookTimeout: soak ? 1_800_000 : 180_000,
    // Each file starts its own broker; one at a time keeps the 2 cores for it.
    fileParallelism: false,
  },
});
