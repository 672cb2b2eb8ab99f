/** The dashboard's topics page suite (suites/topics.ts) on the Node host (edge/dist-node). */
import { NODE } from "../../suites/hosts.ts";
import { topicsSuite } from "../suites/topics.ts";

topicsSuite(NODE);
