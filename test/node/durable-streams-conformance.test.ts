/** The counted conformance suite (test/suites/durable-streams-conformance.ts) on the Node host. */
import { conformanceSuite } from "../suites/durable-streams-conformance.ts";
import { NODE } from "../suites/hosts.ts";

conformanceSuite(NODE);
