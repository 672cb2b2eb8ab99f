/** Browser suite: the tracker with a site key (suites/track-site-key.ts) on the Cloudflare host (wrangler dev). */
import { CLOUDFLARE } from "../../client-sdk/test/support/hosts.ts";
import { trackSiteKeySuite } from "./suites/track-site-key.ts";

trackSiteKeySuite(CLOUDFLARE);
