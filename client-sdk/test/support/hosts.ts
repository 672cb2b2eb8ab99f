/**
 * The hosts an SDK suite runs against (STYLE.md habit 4): `wrangler dev` (this project's own
 * launcher, support/broker.ts) and the self-hosted Node host (edge/dist-node/kaiten.mjs, built
 * by `npm run build`, started by the repository's test/lib/broker.ts). Both are driven alike:
 * `stop()` kills the broker as a crash would and `launch()` starts it again on the same data.
 */
import { Broker as HostBroker } from "../../../test/lib/broker.ts";
import { Broker, BrokerHttp, type BrokerOptions } from "./broker.ts";

export interface SdkBroker extends BrokerHttp {
  readonly port: number;
  /** The broker's most recent output, for failure messages. */
  readonly output: string;
  /** SIGKILL: a crash, as far as clients can tell; the data stays. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  launch(): Promise<void>;
  dispose(): Promise<void>;
}

export interface SdkHost {
  name: string;
  start(options: BrokerOptions): Promise<SdkBroker>;
}

export const CLOUDFLARE: SdkHost = {
  name: "Cloudflare (wrangler dev)",
  start: (options) => Broker.start(options),
};

export const NODE: SdkHost = {
  name: "Node (uWebSockets.js)",
  start: (options) => NodeBroker.start(options),
};

/**
 * `--var NAME:value` pairs of wrangler arguments, as settings for the Node host. Any other
 * argument is refused: dropped, it would leave a test running on Node without what it asked for.
 */
function varsOf(args: string[] = []): Record<string, string> {
  const vars: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 2) {
    const [flag, pair = ""] = [args[i], args[i + 1]];
    const at = pair.indexOf(":");
    if (flag !== "--var" || at < 1) throw new Error(`no Node host setting for "${flag} ${pair}"`);
    vars[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return vars;
}

class NodeBroker extends BrokerHttp {
  private constructor(
    private readonly broker: HostBroker,
    readonly options: BrokerOptions,
  ) {
    super();
  }

  static async start(options: BrokerOptions): Promise<NodeBroker> {
    const broker = await HostBroker.start({ host: "node", vars: varsOf(options.args) });
    return new NodeBroker(broker, options);
  }

  get port(): number {
    return this.broker.port;
  }

  get url(): string {
    return this.broker.url;
  }

  get output(): string {
    return this.broker.logs().slice(-3_000);
  }

  stop(): Promise<void> {
    return this.broker.kill9();
  }

  launch(): Promise<void> {
    return this.broker.restart();
  }

  dispose(): Promise<void> {
    return this.broker.dispose();
  }
}
