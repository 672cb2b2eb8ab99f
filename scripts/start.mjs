#!/usr/bin/env node
// `npm start`: the broker under wrangler dev (workerd), state persisted under .wrangler/state,
// listening on 127.0.0.1:8787 with no outbound network. Extra arguments go to wrangler.
import { spawn } from "node:child_process";

const env = {
  ...process.env,
  // Offline by design: no Request.cf download, no telemetry, no update check.
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_HIDE_BANNER: "true",
};
const host = process.env.KAITEN_HOST ?? "127.0.0.1";
const port = process.env.KAITEN_PORT ?? "8787";
const args = [
  "wrangler",
  "dev",
  "--ip",
  host,
  "--port",
  port,
  "--persist-to",
  ".wrangler/state",
  "--show-interactive-dev-session=false",
  ...process.argv.slice(2),
];
console.log(`Kaiten broker starting on http://${host}:${port} (state in .wrangler/state)`);
const child = spawn("npx", args, { env, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
