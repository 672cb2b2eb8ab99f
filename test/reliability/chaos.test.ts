/** The chaos suite (test/suites/chaos.ts) on Cloudflare (wrangler dev). */

import { chaosSuite } from "../suites/chaos.ts";
import { CLOUDFLARE } from "../suites/hosts.ts";

chaosSuite(CLOUDFLARE);
