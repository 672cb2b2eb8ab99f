/** The SDK's transport suite (suites/transport.ts) on the Node host (edge/dist-node, `npm run build`). */

import { transportSuite } from "./suites/transport.ts";
import { NODE } from "./support/hosts.ts";

transportSuite(NODE);
