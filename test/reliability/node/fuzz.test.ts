/** The fuzz suite (test/suites/fuzz.ts) on the Node host. */

import { fuzzSuite } from "../../suites/fuzz.ts";
import { NODE } from "../../suites/hosts.ts";

fuzzSuite(NODE);
