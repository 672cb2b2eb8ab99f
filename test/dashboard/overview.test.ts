/** The dashboard's overview suite (suites/overview.ts) on the Cloudflare host (wrangler dev). */
import { CLOUDFLARE } from "../suites/hosts.ts";
import { overviewSuite } from "./suites/overview.ts";

overviewSuite(CLOUDFLARE);
