/** The SDK's transport suite (suites/transport.ts) on Cloudflare (wrangler dev). */

import { transportSuite } from "./suites/transport.ts";
import { CLOUDFLARE } from "./support/hosts.ts";

transportSuite(CLOUDFLARE);
