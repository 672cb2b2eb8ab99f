/** The dashboard's figures suite (suites/figures.ts) on the Cloudflare host (wrangler dev). */
import { CLOUDFLARE } from "../suites/hosts.ts";
import { figuresSuite } from "./suites/figures.ts";

figuresSuite(CLOUDFLARE);
