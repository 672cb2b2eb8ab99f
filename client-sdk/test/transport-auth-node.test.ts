/** The SDK's transport-auth suite (suites/transport-auth.ts) on the Node host (edge/dist-node, `npm run build`). */

import { transportAuthSuite } from "./suites/transport-auth.ts";
import { NODE } from "./support/hosts.ts";

transportAuthSuite(NODE);
