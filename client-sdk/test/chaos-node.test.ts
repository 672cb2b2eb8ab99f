/** The SDK's chaos suite (suites/chaos.ts) on the Node host (edge/dist-node, `npm run build`). */

import { chaosSuite } from "./suites/chaos.ts";
import { NODE } from "./support/hosts.ts";

chaosSuite(NODE);
