/** The SDK's roundtrip suite (suites/roundtrip.ts) on the Node host (edge/dist-node, `npm run build`). */

import { roundtripSuite } from "./suites/roundtrip.ts";
import { NODE } from "./support/hosts.ts";

roundtripSuite(NODE);
