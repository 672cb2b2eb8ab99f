/** The slow consumer suite (test/suites/slow-consumer.ts) on the Node host. */

import { NODE } from "../../suites/hosts.ts";
import { slowConsumerSuite } from "../../suites/slow-consumer.ts";

slowConsumerSuite(NODE);
