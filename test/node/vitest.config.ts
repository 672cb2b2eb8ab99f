import { defineConfig } from "vitest/config";

// The self-hosted Node broker (edge/src/node), as a real process: what only this host has
// (SIGTERM, kill -9 on its own files, uWebSockets.js backpressure). Built by `npm run build`.
export default defineConfig({
  test: {
    name: "node-host",
    include: ["**/*.test.ts"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
