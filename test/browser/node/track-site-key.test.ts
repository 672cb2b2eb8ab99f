/** Browser suite: the tracker with a site key (suites/track-site-key.ts) on the Node host (edge/dist-node). */
import { NODE } from "../../../client-sdk/test/support/hosts.ts";
import { trackSiteKeySuite } from "../suites/track-site-key.ts";

trackSiteKeySuite(NODE);
