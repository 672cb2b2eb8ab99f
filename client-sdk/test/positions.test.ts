/** The SDK's positions suite (suites/positions.ts) on Cloudflare (wrangler dev). */

import { positionsSuite } from "./suites/positions.ts";
import { CLOUDFLARE } from "./support/hosts.ts";

positionsSuite(CLOUDFLARE);
