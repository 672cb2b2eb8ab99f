/** The slow consumer suite (test/suites/slow-consumer.ts) on Cloudflare (wrangler dev). */

import { CLOUDFLARE } from "../suites/hosts.ts";
import { slowConsumerSuite } from "../suites/slow-consumer.ts";

slowConsumerSuite(CLOUDFLARE);
