import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Tests run inside workerd with the real Durable Object runtime (SQLite storage, hibernatable
// WebSockets, alarms), configured from the same wrangler.toml that `npm start` uses.
export default defineConfig({
  plugins: [
    cloudflareTest({
      main: "./src/cloudflare/worker.ts",
      wrangler: { configPath: "../wrangler.toml" },
    }),
  ],
  test: { name: "edge", include: ["test/**/*.test.ts"], testTimeout: 30_000 },
});
