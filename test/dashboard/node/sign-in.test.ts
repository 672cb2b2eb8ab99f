/** The dashboard's sign-in suite (suites/sign-in.ts) on the Node host (edge/dist-node). */
import { NODE } from "../../suites/hosts.ts";
import { signInSuite } from "../suites/sign-in.ts";

signInSuite(NODE);
