/** The SDK's transport-auth suite (suites/transport-auth.ts) on Cloudflare (wrangler dev). */

import { transportAuthSuite } from "./suites/transport-auth.ts";
import { CLOUDFLARE } from "./support/hosts.ts";

transportAuthSuite(CLOUDFLARE);
