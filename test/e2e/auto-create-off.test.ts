/** The auto-create off suite (test/suites/auto-create-off.ts) on the Cloudflare host (wrangler dev). */

import { autoCreateOffSuite } from "../suites/auto-create-off.ts";
import { CLOUDFLARE } from "../suites/hosts.ts";

autoCreateOffSuite(CLOUDFLARE);
