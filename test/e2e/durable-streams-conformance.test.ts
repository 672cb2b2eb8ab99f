/** The counted conformance suite (test/suites/durable-streams-conformance.ts) on the Cloudflare host. */
import { conformanceSuite } from "../suites/durable-streams-conformance.ts";
import { CLOUDFLARE } from "../suites/hosts.ts";

conformanceSuite(CLOUDFLARE);
