/** The kill -9 suite (test/suites/crash.ts) on Cloudflare (wrangler dev). */

import { crashSuite } from "../suites/crash.ts";
import { CLOUDFLARE } from "../suites/hosts.ts";

crashSuite(CLOUDFLARE);
