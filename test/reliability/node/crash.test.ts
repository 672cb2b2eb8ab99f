/** The kill -9 suite (test/suites/crash.ts) on the Node host. */

import { crashSuite } from "../../suites/crash.ts";
import { NODE } from "../../suites/hosts.ts";

crashSuite(NODE);
