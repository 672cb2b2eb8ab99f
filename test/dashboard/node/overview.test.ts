/** The dashboard's overview suite (suites/overview.ts) on the Node host (edge/dist-node). */
import { NODE } from "../../suites/hosts.ts";
import { overviewSuite } from "../suites/overview.ts";

overviewSuite(NODE);
