/** Browser suite: the SDK without WebSockets (suites/transport.ts) on the Cloudflare host (wrangler dev). */
import { CLOUDFLARE } from "../../client-sdk/test/support/hosts.ts";
import { transportSuite } from "./suites/transport.ts";

transportSuite(CLOUDFLARE);
