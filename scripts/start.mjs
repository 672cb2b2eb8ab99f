#!/usr/bin/env node
// `npm start`: the broker under wrangler dev (workerd), state persisted under .wrangler/state,
// listening on 127.0.0.1:8787 with no outbound network. Extra arguments go to wrangler. The
// same Worker serves the dashboard (dashboard/dist, built by `npm run build` just before).
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
const extra = process.argv.slice(2);
// `npm start -- --persist-to DIR` chooses another state directory; wrangler refuses the flag twice.
const persistAt = extra.indexOf("--persist-to");
const state = persistAt >= 0 ? extra[persistAt + 1] : ".wrangler/state";
// Local development runs open (KAITEN_AUTH "off"), on loopback unless KAITEN_HOST says
// otherwise; wrangler.toml's default, and every deploy, is "jwt". KAITEN_AUTH=jwt npm start
// runs closed locally, with the keys from .dev.vars.
const authMode = process.env.KAITEN_AUTH === "jwt" ? "jwt" : "off";
const args = ["wrangler", "dev", "--ip", host, "--port", port, "--var", `KAITEN_AUTH:${authMode}`];
if (persistAt < 0) args.push("--persist-to", state);
args.push("--show-interactive-dev-session=false", ...extra);
console.log(`Kaiten broker starting on http://${host}:${port} (state in ${state})`);
if (authMode === "off")
  console.log(
    "Auth is OFF (KAITEN_AUTH=off): anyone who reaches this port can read, write and delete. " +
      'Deployed brokers use wrangler.toml\'s KAITEN_AUTH="jwt"; see README, Securing a deployment.',
  );
else
  console.log(
    "Auth is ON (KAITEN_AUTH=jwt): keys from .dev.vars (KAITEN_JWT_SECRET or KAITEN_JWT_JWKS).",
  );
console.log(`Dashboard: http://${host}:${port}/  (for traffic to watch: npm run demo)`);
const child = spawn("npx", args, { env, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
