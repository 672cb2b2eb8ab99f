/** The SDK's positions suite (suites/positions.ts) on the Node host (edge/dist-node, `npm run build`). */

import { positionsSuite } from "./suites/positions.ts";
import { NODE } from "./support/hosts.ts";

positionsSuite(NODE);
