/** The durability suite (test/suites/durability.ts) on the Node host: WAL, synchronous = FULL. */

import { durabilitySuite } from "../suites/durability.ts";
import { NODE } from "../suites/hosts.ts";

durabilitySuite(NODE);
