/**
 * @kaiten/client/workers: Workers helpers. A Worker reaches Kaiten through a service binding
 * (`env.KAITEN`), whose sockets are opened with `fetch` and an Upgrade header rather than
 * `new WebSocket(url)`:
 *
 *   const client = createClient({
 *     url: "https://kaiten", // any origin: the binding routes it
 *     fetch: (input, init) => env.KAITEN.fetch(input, init),
 *     WebSocket: fetchWebSocket(env.KAITEN),
 *   });
 */
import type { WebSocketClass } from "./link.ts";

/** What a service binding (or the global fetch) offers. */
export interface Fetcher {
  fetch(input: string, init?: RequestInit): Promise<Response>;
}

/** The Workers runtime's socket, as `Response.webSocket` gives it. */
interface WorkerSocket {
  binaryType?: string;
  accept(): void;
  send(data: string | ArrayBuffer | ArrayBufferView): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "message", fn: (e: { data: unknown }) => void): void;
  addEventListener(type: "close", fn: (e: { code: number; reason: string }) => void): void;
  addEventListener(type: "error", fn: (e: unknown) => void): void;
}

/** A WebSocket class for the SDK whose sockets are opened through `fetcher.fetch`. */
export function fetchWebSocket(fetcher: Fetcher): WebSocketClass {
  return class FetchWebSocket {
    binaryType = "arraybuffer";
    onopen: ((e: unknown) => void) | null = null;
    onmessage: ((e: { data: unknown }) => void) | null = null;
    onclose: ((e: { code: number; reason: string }) => void) | null = null;
    onerror: ((e: unknown) => void) | null = null;
    #ws: WorkerSocket | null = null;
    #closing = false;

    constructor(url: string, protocols: string, options?: { headers: Record<string, string> }) {
      const headers = {
        upgrade: "websocket",
        "sec-websocket-protocol": protocols,
        ...options?.headers,
      };
      fetcher.fetch(url.replace(/^ws/, "http"), { headers }).then(
        (res) => this.#attach(res),
        () => this.#down(1006, "connect failed"),
      );
    }

    #attach(res: Response): void {
      const ws = (res as Response & { webSocket?: WorkerSocket | null }).webSocket;
      if (!ws) {
        this.#down(1006, `upgrade refused: HTTP ${res.status}`);
        return;
      }
      ws.accept();
      // Binary messages as ArrayBuffer, as the SDK reads them (some compatibility dates give Blobs).
      ws.binaryType = "arraybuffer";
      if (this.#closing) {
        ws.close(1000);
        return;
      }
      this.#ws = ws;
      ws.addEventListener("message", (e) => this.onmessage?.({ data: e.data }));
      ws.addEventListener("close", (e) => this.#down(e.code, e.reason));
      ws.addEventListener("error", (e) => this.onerror?.(e));
      this.onopen?.({});
    }

    #down(code: number, reason: string): void {
      const onclose = this.onclose;
      this.onclose = null;
      onclose?.({ code, reason });
    }

    send(data: string | Uint8Array): void {
      this.#ws?.send(data);
    }

    close(code = 1000): void {
      this.#closing = true;
      if (this.#ws) this.#ws.close(code);
      else this.#down(code, "");
    }
  };
}
