/** The dashboard's consumer groups panel suite (suites/groups.ts) on the Node host (edge/dist-node). */
import { NODE } from "../../suites/hosts.ts";
import { groupsSuite } from "../suites/groups.ts";

groupsSuite(NODE);
