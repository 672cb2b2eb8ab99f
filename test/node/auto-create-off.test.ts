/** The auto-create off suite (test/suites/auto-create-off.ts) on the Node host. */

import { autoCreateOffSuite } from "../suites/auto-create-off.ts";
import { NODE } from "../suites/hosts.ts";

autoCreateOffSuite(NODE);
