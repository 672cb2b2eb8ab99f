/** The auth settings suite (test/suites/auth-config.ts) on the Cloudflare host (wrangler dev). */

import { authConfigSuite } from "../suites/auth-config.ts";
import { CLOUDFLARE } from "../suites/hosts.ts";

authConfigSuite(CLOUDFLARE);
