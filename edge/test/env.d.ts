// Types `env` from "cloudflare:test" with the broker's bindings (wrangler.toml).
import type { Env as KaitenEnv } from "../src/cloudflare/env.ts";

declare global {
  namespace Cloudflare {
    interface Env extends KaitenEnv {}
  }
}
