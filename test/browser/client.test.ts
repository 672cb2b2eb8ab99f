/** Browser suite: the SDK in a browser (suites/client.ts) on the Cloudflare host (wrangler dev). */
import { CLOUDFLARE } from "../../client-sdk/test/support/hosts.ts";
import { clientSuite } from "./suites/client.ts";

clientSuite(CLOUDFLARE);
