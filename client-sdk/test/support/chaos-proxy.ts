/**
 * A TCP proxy between the SDK and the broker that breaks connections on purpose: it cuts
 * every connection at random moments, and can black-hole them (keep the sockets open but
 * pass nothing on, as a dead network does) to exercise the heartbeat.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export interface ChaosOptions {
  /** Each connection is cut after a random time up to this many ms; 0 never cuts. Default: 0 */
  maxLifeMs?: number;
  /** Random number in [0, 1). Default: Math.random */
  random?: () => number;
  /** Listen on this port (a proxy started again where an earlier one was). Default: any free port */
  port?: number;
}

export class ChaosProxy {
  readonly #server: Server;
  readonly #pairs = new Set<[Socket, Socket]>();
  #blackhole = false;
  cuts = 0;
  connections = 0;
  /**
   * Drops what the broker sends while true, so its acks are lost on the way; what the client
   * sends still passes (a batch is stored, its ack never arrives).
   */
  dropReplies = false;
  /** Refuses WebSocket upgrades (403, then closed) while true, as proxies that break them do. */
  refuseUpgrades = false;
  /** Refuses this many more upgrades, whatever `refuseUpgrades` says (a network that fails some handshakes). */
  refuseNext = 0;
  /** WebSocket upgrades refused. */
  refused = 0;
  /**
   * Holds WebSocket upgrades while true: the connection stays open and the request is never
   * answered (a proxy that does not understand the upgrade and waits for a body).
   */
  holdUpgrades = false;
  /** WebSocket upgrades held unanswered. */
  held = 0;
  /**
   * Buffers SSE answers while true: nothing of a `live=sse` answer, not even its headers,
   * reaches the client until the broker's side of the connection ends (a proxy that buffers
   * whole responses).
   */
  bufferSse = false;
  /** Requests seen, by kind: upgrades, SSE reads (`live=sse`), long-polls, produce POSTs. */
  seen = { upgrades: 0, sse: 0, polls: 0, posts: 0 };
  /** The next this many answers to a produce POST are cut before they reach the client (the broker stored the records). */
  cutAnswers = 0;
  /** Produce answers cut. */
  answersCut = 0;

  private constructor(
    server: Server,
    readonly port: number,
  ) {
    this.#server = server;
  }

  static async start(target: number, o: ChaosOptions = {}): Promise<ChaosProxy> {
    const random = o.random ?? Math.random;
    let proxy!: ChaosProxy;
    const server = createServer((client) => {
      const upstream = connect(target, "127.0.0.1");
      const pair: [Socket, Socket] = [client, upstream];
      proxy.#pairs.add(pair);
      proxy.connections++;
      // A POST on this connection whose answer is still to come.
      let posted = false;
      // What the broker sent on a buffered SSE answer; undefined while not buffering.
      let buffered: Buffer[] | undefined;
      let holding = false;
      client.on("data", (d: Buffer) => {
        if (holding) return;
        const head = d.subarray(0, 4096).toString("latin1");
        if (/^(GET|POST) /.test(head)) {
          if (/\r\nupgrade: *websocket/i.test(head)) {
            proxy.seen.upgrades++;
            if (proxy.holdUpgrades) {
              proxy.held++;
              holding = true;
              return;
            }
            if (proxy.refuseUpgrades || proxy.refuseNext > 0) {
              proxy.refuseNext--;
              proxy.refused++;
              client.end(
                "HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
              );
              upstream.destroy();
              return;
            }
          }
          if (/^GET \S*live=sse/.test(head)) {
            proxy.seen.sse++;
            if (proxy.bufferSse) buffered = [];
          }
          if (/^GET \S*live=long-poll/.test(head)) proxy.seen.polls++;
          if (/^POST \S*\/records /.test(head)) {
            proxy.seen.posts++;
            posted = true;
          }
        }
        if (!proxy.#blackhole) upstream.write(d);
      });
      upstream.on("data", (d: Buffer) => {
        if (posted && proxy.cutAnswers > 0) {
          proxy.cutAnswers--;
          proxy.answersCut++;
          end();
          return;
        }
        posted = false;
        if (proxy.dropReplies) return;
        if (buffered) buffered.push(d);
        else if (!proxy.#blackhole) client.write(d);
      });
      // A buffered answer goes out whole once the broker ended it.
      upstream.on("end", () => {
        if (buffered) client.end(Buffer.concat(buffered));
      });
      const end = () => {
        client.destroy();
        upstream.destroy();
        proxy.#pairs.delete(pair);
      };
      client.on("close", end).on("error", end);
      // A buffered answer closes the client side itself once written (above).
      upstream.on("close", () => buffered || end()).on("error", end);
      if (o.maxLifeMs) {
        const timer = setTimeout(() => {
          proxy.cuts++;
          end();
        }, random() * o.maxLifeMs);
        client.on("close", () => clearTimeout(timer));
      }
    });
    await new Promise<void>((resolve) => server.listen(o.port ?? 0, "127.0.0.1", resolve));
    proxy = new ChaosProxy(server, (server.address() as { port: number }).port);
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Passes nothing on while true; the sockets stay open. */
  set blackhole(on: boolean) {
    this.#blackhole = on;
  }

  /** Cuts every open connection now. */
  cutAll(): void {
    for (const [a, b] of this.#pairs) {
      a.destroy();
      b.destroy();
    }
    this.#pairs.clear();
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}
