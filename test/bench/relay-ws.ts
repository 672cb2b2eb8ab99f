/**
 * Baseline: a relay on the plain `ws` package, storing nothing (relay-core.ts). Run as a
 * child process of the bench; it reports its port over IPC and exits when the parent goes.
 */
import { SUBPROTOCOL } from "@kaiten/protocol";
import { WebSocketServer } from "ws";
import { RelayCore, type RelayPeer } from "./relay-core.ts";
import { announce } from "./relay-process.ts";

const core = new RelayCore();
const server = new WebSocketServer({
  host: "127.0.0.1",
  port: 0,
  perMessageDeflate: false,
  maxPayload: 2 * 1_048_576,
  handleProtocols: (offered) => (offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
});

server.on("connection", (ws, request) => {
  const path = request.url ?? "/";
  const peer: RelayPeer = {
    send: (frame) => ws.send(frame),
    sendText: (text) => ws.send(text),
  };
  ws.on("message", (data, isBinary) => {
    const bytes = data as Buffer;
    core.message(path, peer, isBinary ? bytes : bytes.toString());
  });
  ws.on("close", () => core.closed(path, peer));
  ws.on("error", () => core.closed(path, peer));
});

server.on("listening", () => {
  const address = server.address();
  announce("ws", typeof address === "object" && address ? address.port : 0, false);
});
