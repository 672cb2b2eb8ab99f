/** The live reads over HTTP suite (test/suites/live-http.ts) on the Node host. */
import { NODE } from "../suites/hosts.ts";
import { liveHttpSuite } from "../suites/live-http.ts";

liveHttpSuite(NODE);
