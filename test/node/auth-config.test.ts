/** The auth settings suite (test/suites/auth-config.ts) on the Node host. */

import { authConfigSuite } from "../suites/auth-config.ts";
import { NODE } from "../suites/hosts.ts";

authConfigSuite(NODE);
