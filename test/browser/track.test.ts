/** Browser suite: the click tracker (suites/track.ts) on the Cloudflare host (wrangler dev). */
import { CLOUDFLARE } from "../../client-sdk/test/support/hosts.ts";
import { trackSuite } from "./suites/track.ts";

trackSuite(CLOUDFLARE);
