/** The dashboard's live tail suite (suites/tail.ts) on the Node host (edge/dist-node). */
import { NODE } from "../../suites/hosts.ts";
import { tailSuite } from "../suites/tail.ts";

tailSuite(NODE);
