/** The dashboard's sign-in suite (suites/sign-in.ts) on the Cloudflare host (wrangler dev). */
import { CLOUDFLARE } from "../suites/hosts.ts";
import { signInSuite } from "./suites/sign-in.ts";

signInSuite(CLOUDFLARE);
