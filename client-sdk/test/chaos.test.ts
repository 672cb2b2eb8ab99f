/** The SDK's chaos suite (suites/chaos.ts) on Cloudflare (wrangler dev). */

import { chaosSuite } from "./suites/chaos.ts";
import { CLOUDFLARE } from "./support/hosts.ts";

chaosSuite(CLOUDFLARE);
