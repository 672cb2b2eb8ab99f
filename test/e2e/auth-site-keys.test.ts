/** The site keys suite (test/suites/auth-site-keys.ts) on the Cloudflare host (wrangler dev). */

import { authSiteKeysSuite } from "../suites/auth-site-keys.ts";
import { CLOUDFLARE } from "../suites/hosts.ts";

authSiteKeysSuite(CLOUDFLARE);
