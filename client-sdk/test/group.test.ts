/** The SDK's group suite (suites/group.ts) on Cloudflare (wrangler dev). */

import { groupSuite } from "./suites/group.ts";
import { CLOUDFLARE } from "./support/hosts.ts";

groupSuite(CLOUDFLARE);
