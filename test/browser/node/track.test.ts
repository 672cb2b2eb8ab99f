/** Browser suite: the click tracker (suites/track.ts) on the Node host (edge/dist-node). */
import { NODE } from "../../../client-sdk/test/support/hosts.ts";
import { trackSuite } from "../suites/track.ts";

trackSuite(NODE);
