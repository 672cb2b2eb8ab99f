/** The dashboard's consumer groups panel suite (suites/groups.ts) on the Cloudflare host (wrangler dev). */
import { CLOUDFLARE } from "../suites/hosts.ts";
import { groupsSuite } from "./suites/groups.ts";

groupsSuite(CLOUDFLARE);
