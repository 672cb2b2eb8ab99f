/** The the key partitioner suite (test/suites/partitioner.ts) on the Cloudflare host (wrangler dev). */

import { CLOUDFLARE } from "../suites/hosts.ts";
import { partitionerSuite } from "../suites/partitioner.ts";

partitionerSuite(CLOUDFLARE);
