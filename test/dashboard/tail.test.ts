/** The dashboard's live tail suite (suites/tail.ts) on the Cloudflare host (wrangler dev). */
import { CLOUDFLARE } from "../suites/hosts.ts";
import { tailSuite } from "./suites/tail.ts";

tailSuite(CLOUDFLARE);
