/** The the key partitioner suite (test/suites/partitioner.ts) on the Node host. */

import { NODE } from "../suites/hosts.ts";
import { partitionerSuite } from "../suites/partitioner.ts";

partitionerSuite(NODE);
