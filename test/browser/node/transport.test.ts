/** Browser suite: the SDK without WebSockets (suites/transport.ts) on the Node host (edge/dist-node). */
import { NODE } from "../../../client-sdk/test/support/hosts.ts";
import { transportSuite } from "../suites/transport.ts";

transportSuite(NODE);
