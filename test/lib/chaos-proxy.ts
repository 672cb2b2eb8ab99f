/**
 * A TCP proxy that breaks connections on purpose, for reliability tests of anything that
 * speaks TCP to the broker (the raw protocol client, the SDK, HTTP). It can:
 * - cut every connection after a random lifetime (as networks and load balancers do), for as
 *   long as it runs, with a seeded random source so that a failing run can be replayed;
 * - hold what the broker sends to one connection instead of passing it on, counting the
 *   bytes, as a client that stops reading would (without the kernel's socket buffers
 *   hiding how much the broker pushed);
 * - black-hole everything (sockets open, nothing passes), as a dead network does;
 * - cut every open connection now.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export interface ChaosOptions {
  /** Each connection is cut after a random lifetime in [minLifeMs, maxLifeMs]. Default: 0 */
  minLifeMs?: number;
  /** 0 never cuts connections on its own. Default: 0 */
  maxLifeMs?: number;
  /** Seed of the random lifetimes. Default: 1 */
  seed?: number;
  /** Where the proxied server listens. Default: "127.0.0.1" */
  targetHost?: string;
}

/** A small seeded generator (mulberry32): numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One proxied connection: the client's socket and the one to the server. */
export class ProxiedConnection {
  /** Bytes from the server held back while `hold` is on. */
  heldBytes = 0;
  /** Bytes from the server passed on or held, in all. */
  bytesFromServer = 0;
  private held: Buffer[] = [];
  private holding = false;

  constructor(
    readonly client: Socket,
    readonly server: Socket,
  ) {}

  /** Keeps what the server sends instead of passing it on (a client that stops reading). */
  hold(): void {
    this.holding = true;
  }

  /** Passes on what was held, then everything again. */
  release(): void {
    this.holding = false;
    for (const chunk of this.held) this.client.write(chunk);
    this.held = [];
  }

  fromServer(chunk: Buffer, blackhole: boolean): void {
    this.bytesFromServer += chunk.length;
    if (blackhole) return;
    if (this.holding) {
      this.held.push(chunk);
      this.heldBytes += chunk.length;
    } else {
      this.client.write(chunk);
    }
  }

  cut(): void {
    this.client.destroy();
    this.server.destroy();
  }
}

export class ChaosProxy {
  /** Connections cut by the proxy (by lifetime or cutAll). */
  cuts = 0;
  /** Connections accepted, in all. */
  connections = 0;
  /** Passes nothing on while true; the sockets stay open. */
  blackhole = false;
  readonly open = new Set<ProxiedConnection>();
  private readonly random: () => number;
  private server!: Server;
  private listeningPort = 0;
  /** Called with each new connection (e.g. to hold a particular one). */
  onConnection: (c: ProxiedConnection) => void = () => {};

  private constructor(
    private readonly targetPort: number,
    private readonly options: ChaosOptions,
  ) {
    this.random = seededRandom(options.seed ?? 1);
  }

  /** Starts a proxy on a free loopback port in front of `targetPort`. */
  static async start(targetPort: number, options: ChaosOptions = {}): Promise<ChaosProxy> {
    const proxy = new ChaosProxy(targetPort, options);
    proxy.server = createServer((client) => proxy.accept(client));
    await new Promise<void>((resolve) => proxy.server.listen(0, "127.0.0.1", resolve));
    proxy.listeningPort = (proxy.server.address() as { port: number }).port;
    return proxy;
  }

  get port(): number {
    return this.listeningPort;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private accept(client: Socket): void {
    const server = connect(this.targetPort, this.options.targetHost ?? "127.0.0.1");
    const c = new ProxiedConnection(client, server);
    this.open.add(c);
    this.connections++;
    client.setNoDelay(true);
    server.setNoDelay(true);
    client.on("data", (d: Buffer) => {
      if (!this.blackhole) server.write(d);
    });
    server.on("data", (d: Buffer) => c.fromServer(d, this.blackhole));
    const end = () => {
      c.cut();
      this.open.delete(c);
    };
    for (const s of [client, server]) s.on("close", end).on("error", end);
    const { minLifeMs = 0, maxLifeMs = 0 } = this.options;
    if (maxLifeMs > 0) {
      const timer = setTimeout(
        () => {
          if (!this.open.has(c)) return;
          this.cuts++;
          end();
        },
        minLifeMs + this.random() * (maxLifeMs - minLifeMs),
      );
      client.on("close", () => clearTimeout(timer));
    }
    this.onConnection(c);
  }

  /** Cuts every open connection now. */
  cutAll(): void {
    for (const c of this.open) {
      this.cuts++;
      c.cut();
    }
    this.open.clear();
  }

  /** Stops accepting, cuts what is open. */
  async close(): Promise<void> {
    const closed = new Promise((resolve) => this.server.close(resolve));
    this.cutAll();
    await closed;
  }
}
