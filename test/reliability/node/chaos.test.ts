/** The chaos suite (test/suites/chaos.ts) on the Node host. */

import { chaosSuite } from "../../suites/chaos.ts";
import { NODE } from "../../suites/hosts.ts";

chaosSuite(NODE);
