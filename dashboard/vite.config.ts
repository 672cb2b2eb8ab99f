import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The Worker serves dist/ as static assets (wrangler.toml [assets]), so the dashboard and the
// broker share one origin. Under `vite dev` the API and its WebSockets go to `npm start`'s broker.
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 400 },
  server: {
    proxy: { "/v1": { target: "http://127.0.0.1:8787", ws: true } },
  },
});
