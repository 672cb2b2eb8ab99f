/** The npx kaiten suite (test/suites/cli.ts) on the Node host. */

import { cliSuite } from "../suites/cli.ts";
import { NODE } from "../suites/hosts.ts";

cliSuite(NODE);
