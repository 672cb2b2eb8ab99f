/** The dashboard's topics page suite (suites/topics.ts) on the Cloudflare host (wrangler dev). */
import { CLOUDFLARE } from "../suites/hosts.ts";
import { topicsSuite } from "./suites/topics.ts";

topicsSuite(CLOUDFLARE);
