/** The bad-input suite (test/suites/bad-input.ts) on the Cloudflare host (wrangler dev). */
import { badInputSuite } from "../suites/bad-input.ts";
import { CLOUDFLARE } from "../suites/hosts.ts";

badInputSuite(CLOUDFLARE);
