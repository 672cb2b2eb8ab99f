/** The auth over WebSocket suite (test/suites/auth-websocket.ts) on the Node host. */

import { authWebsocketSuite } from "../suites/auth-websocket.ts";
import { NODE } from "../suites/hosts.ts";

authWebsocketSuite(NODE);
