/** The auth over WebSocket suite (test/suites/auth-websocket.ts) on the Cloudflare host (wrangler dev). */

import { authWebsocketSuite } from "../suites/auth-websocket.ts";
import { CLOUDFLARE } from "../suites/hosts.ts";

authWebsocketSuite(CLOUDFLARE);
