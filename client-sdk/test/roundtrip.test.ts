/** The SDK's roundtrip suite (suites/roundtrip.ts) on Cloudflare (wrangler dev). */

import { roundtripSuite } from "./suites/roundtrip.ts";
import { CLOUDFLARE } from "./support/hosts.ts";

roundtripSuite(CLOUDFLARE);
