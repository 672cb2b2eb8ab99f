/** The Durable Streams suite (test/suites/durable-streams.ts) on the Node host. */

import { durableStreamsSuite } from "../suites/durable-streams.ts";
import { NODE } from "../suites/hosts.ts";

durableStreamsSuite(NODE);
