/** The the HTTP API suite (test/suites/http-api.ts) on the Cloudflare host (wrangler dev). */
import { CLOUDFLARE } from "../suites/hosts.ts";
import { httpApiSuite } from "../suites/http-api.ts";

httpApiSuite(CLOUDFLARE);
