/** The auth over HTTP suite (test/suites/auth-http.ts) on the Node host. */

import { authHttpSuite } from "../suites/auth-http.ts";
import { NODE } from "../suites/hosts.ts";

authHttpSuite(NODE);
