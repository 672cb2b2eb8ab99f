/** Browser suite: a group member in a browser tab (suites/group-reload.ts) on the Cloudflare host (wrangler dev). */
import { CLOUDFLARE } from "../../client-sdk/test/support/hosts.ts";
import { groupReloadSuite } from "./suites/group-reload.ts";

groupReloadSuite(CLOUDFLARE);
