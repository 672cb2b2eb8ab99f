/** The dashboard's broker-restart suite (suites/reconnect.ts) on the Cloudflare host (wrangler dev). */
import { CLOUDFLARE } from "../suites/hosts.ts";
import { reconnectSuite } from "./suites/reconnect.ts";

reconnectSuite(CLOUDFLARE);
