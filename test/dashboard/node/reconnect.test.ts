/** The dashboard's broker-restart suite (suites/reconnect.ts) on the Node host (edge/dist-node). */
import { NODE } from "../../suites/hosts.ts";
import { reconnectSuite } from "../suites/reconnect.ts";

reconnectSuite(NODE);
