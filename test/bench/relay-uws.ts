/**
 * Baseline: a relay on uWebSockets.js, storing nothing (relay-core.ts); with RELAY_LOG_DIR
 * set, the `uws-fsync` baseline, which appends and syncs every batch before its ack, or with
 * RELAY_LOG=sqlite too the `uws-sqlite` one, which commits them to SQLite (relay-log.ts).
 * The only npm build
 * that loads on Node 20 is pinned in package.json (docs/DEVELOPMENT.md); on any other
 * Node it would fall back silently to a slow JavaScript shim, so this checks that the
 * native addon is what loaded and refuses to run otherwise.
 */

import uws from "uWebSockets.js";
import { createRequire } from "node:module";
import { SUBPROTOCOL } from "@kaiten/protocol";
import { RelayCore, type RelayPeer } from "./relay-core.ts";
import { fileLog, sqliteLog } from "./relay-log.ts";
import { announce } from "./relay-process.ts";

const require = createRequire(import.meta.url);

/** The uWS native addon for Node 20 (ABI 115), as it appears in require.cache once loaded. */
export function uwsNativeLoaded(): boolean {
  return Object.keys(require.cache).some((k) => /uws_[a-z0-9]+_[a-z0-9]+_115\.node$/.test(k));
}

if (!uwsNativeLoaded()) {
  console.error("uWebSockets.js: the native addon (uws_*_115.node) did not load");
  process.exit(1);
}

interface UserData {
  path: string;
  peer?: RelayPeer;
}

const logDir = process.env.RELAY_LOG_DIR;
const sqlite = process.env.RELAY_LOG === "sqlite";
const log = logDir ? (sqlite ? sqliteLog : fileLog)(logDir) : null;
const core = new RelayCore(log);
const app = uws.App().ws<UserData>("/*", {
  compression: uws.DISABLED,
  maxPayloadLength: 2 * 1_048_576,
  idleTimeout: 0,
  // Never skip a slow receiver: a dropped frame would show as lost in the bench.
  maxBackpressure: 1024 * 1_048_576,
  upgrade: (res, req, context) => {
    const offered = req.getHeader("sec-websocket-protocol");
    const protocol = offered.split(",").some((p) => p.trim() === SUBPROTOCOL) ? SUBPROTOCOL : "";
    res.upgrade<UserData>(
      { path: req.getUrl() },
      req.getHeader("sec-websocket-key"),
      protocol,
      req.getHeader("sec-websocket-extensions"),
      context,
    );
  },
  open: (ws) => {
    const data = ws.getUserData();
    log?.open(data.path);
    data.peer = {
      send: (frame) => ws.send(frame, true),
      sendText: (text) => ws.send(text, false),
    };
  },
  message: (ws, message, isBinary) => {
    const { path, peer } = ws.getUserData();
    if (!peer) return;
    // The ArrayBuffer is only valid during this call; the core copies what it keeps.
    core.message(path, peer, isBinary ? new Uint8Array(message) : Buffer.from(message).toString());
  },
  close: (ws) => {
    const { path, peer } = ws.getUserData();
    if (peer) core.closed(path, peer);
  },
});

app.listen("127.0.0.1", 0, (socket) => {
  if (!socket) {
    console.error("uWebSockets.js: could not listen");
    process.exit(1);
  }
  announce(
    logDir ? (sqlite ? "uws-sqlite" : "uws-fsync") : "uws",
    uws.us_socket_local_port(socket),
    uwsNativeLoaded(),
  );
});
