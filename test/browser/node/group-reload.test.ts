/** Browser suite: a group member in a browser tab (suites/group-reload.ts) on the Node host (edge/dist-node). */
import { NODE } from "../../../client-sdk/test/support/hosts.ts";
import { groupReloadSuite } from "../suites/group-reload.ts";

groupReloadSuite(NODE);
