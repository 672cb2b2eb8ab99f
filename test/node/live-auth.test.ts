/** The rights on live reads suite (test/suites/live-auth.ts) on the Node host. */
import { NODE } from "../suites/hosts.ts";
import { liveAuthSuite } from "../suites/live-auth.ts";

liveAuthSuite(NODE);
