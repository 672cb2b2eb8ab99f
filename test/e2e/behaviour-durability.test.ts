/** The durability suite (test/suites/durability.ts) on the Cloudflare host (wrangler dev). */

import { durabilitySuite } from "../suites/durability.ts";
import { CLOUDFLARE } from "../suites/hosts.ts";

durabilitySuite(CLOUDFLARE);
