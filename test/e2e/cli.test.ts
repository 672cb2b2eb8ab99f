/** The npx kaiten suite (test/suites/cli.ts) on the Cloudflare host (wrangler dev). */

import { cliSuite } from "../suites/cli.ts";
import { CLOUDFLARE } from "../suites/hosts.ts";

cliSuite(CLOUDFLARE);
