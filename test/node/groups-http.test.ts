/** The consumer groups over HTTP suite (test/suites/groups-http.ts) on the Node host. */

import { groupsHttpSuite } from "../suites/groups-http.ts";
import { NODE } from "../suites/hosts.ts";

groupsHttpSuite(NODE);
