/** The consumer groups over HTTP suite (test/suites/groups-http.ts) on the Cloudflare host (wrangler dev). */

import { groupsHttpSuite } from "../suites/groups-http.ts";
import { CLOUDFLARE } from "../suites/hosts.ts";

groupsHttpSuite(CLOUDFLARE);
