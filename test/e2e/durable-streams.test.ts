/** The Durable Streams suite (test/suites/durable-streams.ts) on the Cloudflare host (wrangler dev). */

import { durableStreamsSuite } from "../suites/durable-streams.ts";
import { CLOUDFLARE } from "../suites/hosts.ts";

durableStreamsSuite(CLOUDFLARE);
