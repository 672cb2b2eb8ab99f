/** The dashboard's figures suite (suites/figures.ts) on the Node host (edge/dist-node). */
import { NODE } from "../../suites/hosts.ts";
import { figuresSuite } from "../suites/figures.ts";

figuresSuite(NODE);
