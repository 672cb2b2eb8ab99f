/** The bad-input suite (test/suites/bad-input.ts) on the Node host. */
import { badInputSuite } from "../suites/bad-input.ts";
import { NODE } from "../suites/hosts.ts";

badInputSuite(NODE);
