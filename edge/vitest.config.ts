import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Tests run inside workerd with the real Durable Object runtime (SQLite storage, hibernatable
// WebSockets, alarms), configured from the same wrangler.toml that `npm start` uses.
export default defineConfig({
  plugins: [
    cloudflareTest({
      main: "./src/cloudflare/worker.ts",
      wrangler: { configPath: "../wrangler.toml" },
      // wrangler.toml ships closed; the auth tests (test/e2e/auth-*.test.ts) start brokers
      // with keys of their own, and this suite runs open, as `npm start` does.
      miniflare: { bindings: { KAITEN_AUTH: "off" } },
    }),
  ],
  test: { name: "edge", include: ["test/**/*.test.ts"], testTimeout: 30_000 },
});
