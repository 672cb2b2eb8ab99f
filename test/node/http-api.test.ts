/** The the HTTP API suite (test/suites/http-api.ts) on the Node host. */
import { NODE } from "../suites/hosts.ts";
import { httpApiSuite } from "../suites/http-api.ts";

httpApiSuite(NODE);
