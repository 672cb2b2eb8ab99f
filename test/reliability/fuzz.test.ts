/** The fuzz suite (test/suites/fuzz.ts) on Cloudflare (wrangler dev). */

import { fuzzSuite } from "../suites/fuzz.ts";
import { CLOUDFLARE } from "../suites/hosts.ts";

fuzzSuite(CLOUDFLARE);
