/** The SDK's auth-broker suite (suites/auth-broker.ts) on Cloudflare (wrangler dev). */

import { authBrokerSuite } from "./suites/auth-broker.ts";
import { CLOUDFLARE } from "./support/hosts.ts";

authBrokerSuite(CLOUDFLARE);
