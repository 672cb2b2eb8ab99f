/** The live reads over HTTP suite (test/suites/live-http.ts) on the Cloudflare host (wrangler dev). */
import { CLOUDFLARE } from "../suites/hosts.ts";
import { liveHttpSuite } from "../suites/live-http.ts";

liveHttpSuite(CLOUDFLARE);
