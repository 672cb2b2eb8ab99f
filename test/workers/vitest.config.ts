import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// The SDK running inside workerd, as a Worker that reaches Kaiten through a service binding
// would. The broker is the same Worker (SELF), configured from the root wrangler.toml.
export default defineConfig({
  plugins: [
    cloudflareTest({
      main: "../../edge/src/cloudflare/worker.ts",
      wrangler: { configPath: "../../wrangler.toml" },
      // wrangler.toml ships closed; this suite runs open, as `npm start` does.
      miniflare: { bindings: { KAITEN_AUTH: "off" } },
    }),
  ],
  test: { name: "workers", include: ["*.test.ts"], testTimeout: 30_000 },
});
