/** The auth over HTTP suite (test/suites/auth-http.ts) on the Cloudflare host (wrangler dev). */

import { authHttpSuite } from "../suites/auth-http.ts";
import { CLOUDFLARE } from "../suites/hosts.ts";

authHttpSuite(CLOUDFLARE);
