/** The SDK's auth-broker suite (suites/auth-broker.ts) on the Node host (edge/dist-node, `npm run build`). */

import { authBrokerSuite } from "./suites/auth-broker.ts";
import { NODE } from "./support/hosts.ts";

authBrokerSuite(NODE);
