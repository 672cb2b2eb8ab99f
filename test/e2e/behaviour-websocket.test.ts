/** The WebSocket behaviour suite (test/suites/websocket.ts) on the Cloudflare host. */
import { CLOUDFLARE } from "../suites/hosts.ts";
import { websocketSuite } from "../suites/websocket.ts";

websocketSuite(CLOUDFLARE);
