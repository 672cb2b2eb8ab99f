/** The rights on live reads suite (test/suites/live-auth.ts) on the Cloudflare host (wrangler dev). */
import { CLOUDFLARE } from "../suites/hosts.ts";
import { liveAuthSuite } from "../suites/live-auth.ts";

liveAuthSuite(CLOUDFLARE);
