/** The site keys suite (test/suites/auth-site-keys.ts) on the Node host. */

import { authSiteKeysSuite } from "../suites/auth-site-keys.ts";
import { NODE } from "../suites/hosts.ts";

authSiteKeysSuite(NODE);
