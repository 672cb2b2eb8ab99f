/** Browser suite: the SDK in a browser (suites/client.ts) on the Node host (edge/dist-node). */
import { NODE } from "../../../client-sdk/test/support/hosts.ts";
import { clientSuite } from "../suites/client.ts";

clientSuite(NODE);
