/** The SDK's group suite (suites/group.ts) on the Node host (edge/dist-node, `npm run build`). */

import { groupSuite } from "./suites/group.ts";
import { NODE } from "./support/hosts.ts";

groupSuite(NODE);
