/**
 * A real broker for end-to-end tests, on either host: `wrangler dev` (and the workerd it
 * starts), or the Node host (edge/dist-node/kaiten.mjs, built by `npm run build`), as a child
 * process group on a port and state directory of its own. The group can be stopped politely,
 * killed with SIGKILL to simulate a crash of the runtime, and started again on the same state.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll } from "vitest";

/**
 * The repository root: the nearest folder above this file that holds wrangler.toml. Searched
 * for, not assumed, because the bench runs this file bundled from another folder.
 */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "wrangler.toml"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("no wrangler.toml above test/lib/broker.ts");
    dir = up;
  }
  return dir;
}

const ROOT = findRoot();
const WRANGLER = join(ROOT, "node_modules/.bin/wrangler");
/** The Node host's build (`npm run build`). */
export const NODE_HOST = join(ROOT, "edge/dist-node/kaiten.mjs");

/** Which host runs the broker: workerd under wrangler dev, or the self-hosted Node server. */
export type HostKind = "cloudflare" | "node";
/** Bytes of wrangler/workerd output kept for failure messages (the most recent ones). */
const OUTPUT_BYTES = 64 * 1024;

export interface BrokerOptions {
  /** How long to wait for the first answer to GET /v1/topics, in ms. Default: 60_000 */
  startTimeoutMs?: number;
  /**
   * Extra arguments for `wrangler dev`, such as `--var NAME:value`. Without a
   * `--var KAITEN_AUTH:…` of their own, brokers run with auth off. Default: none
   */
  args?: string[];
  /** Run with wrangler.toml's settings exactly (auth on, as deployed). Default: false */
  asConfigured?: boolean;
  /** Default: "cloudflare". */
  host?: HostKind;
  /** Settings ([vars] on Cloudflare, environment variables on Node). Default: none */
  vars?: Record<string, string>;
  /**
   * Another checkout to run the broker from (its wrangler.toml, edge/ and node_modules), for
   * a bench that compares two commits' brokers in one session. Default: this repository
   */
  root?: string;
}

/**
 * Process groups still running, and state directories not yet deleted, in this test process.
 * If the worker running a test file exits before its afterAll (an interrupted run), the exit
 * hook still kills the groups and deletes the directories, so nothing outlives the run.
 */
const liveGroups = new Set<number>();
const stateDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const pgid of liveGroups) signalGroup(pgid, "SIGKILL");
    for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
  });
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // The group is already gone.
  }
}

/** True while any process of the group exists (kill with signal 0 only checks). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** How many ports a start tries when the one picked is taken meanwhile (by another process). */
const PORT_ATTEMPTS = 3;

class PortInUse extends Error {}

export class Broker {
  private pgid = 0;
  private output = "";
  /** Output of the current start only, to tell why it failed. */
  private sinceStart = "";
  private starts = 0;

  private constructor(
    private currentPort: number,
    readonly stateDir: string,
    private readonly options: BrokerOptions,
  ) {}

  /** Starts a broker on a free port with a fresh, empty state directory. */
  static async start(options: BrokerOptions = {}): Promise<Broker> {
    installExitHook();
    const stateDir = mkdtempSync(join(tmpdir(), "kaiten-e2e-"));
    stateDirs.add(stateDir);
    const broker = new Broker(await freePort(), stateDir, options);
    try {
      await broker.launch();
    } catch (error) {
      await broker.dispose();
      throw error;
    }
    return broker;
  }

  /** The port; the same after a restart unless another process took it meanwhile. */
  get port(): number {
    return this.currentPort;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The most recent output of wrangler and workerd, for failure messages. */
  logs(): string {
    return this.output;
  }

  get host(): HostKind {
    return this.options.host ?? "cloudflare";
  }

  /** The process group of wrangler dev and the workerd it started; 0 when stopped. */
  get processGroup(): number {
    return this.pgid;
  }

  get running(): boolean {
    return this.pgid !== 0 && groupAlive(this.pgid);
  }

  /** Starts the broker again on the same port and state directory (after stop or kill9). */
  async restart(): Promise<void> {
    if (this.running) await this.stop();
    await this.launch();
  }

  /** SIGTERM to the whole group; SIGKILL after 10 s if anything is still alive. */
  async stop(): Promise<void> {
    await this.end("SIGTERM", 10_000);
  }

  /** SIGKILL to the whole group (wrangler and workerd): a crash, with no chance to flush. */
  async kill9(): Promise<void> {
    await this.end("SIGKILL", 5_000);
  }

  /** Stops the broker and deletes its state directory. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.stateDir, { recursive: true, force: true });
    stateDirs.delete(this.stateDir);
  }

  /**
   * Starts wrangler dev; if the port was taken between choosing and binding it (other test
   * runs on this machine start servers too), tries again on another free port.
   */
  private async launch(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.launchOnce();
        return;
      } catch (error) {
        if (!(error instanceof PortInUse) || attempt >= PORT_ATTEMPTS) throw error;
        this.currentPort = await freePort();
      }
    }
  }

  private async launchOnce(): Promise<void> {
    this.starts++;
    this.sinceStart = "";
    this.append(`\n--- start ${this.starts} on port ${this.port} ---\n`);
    // Its own inspector port: wrangler's default, 9229, clashes between concurrent brokers.
    const inspectorPort = await freePort();
    const node = this.host === "node";
    const root = this.options.root;
    const nodeHost = root ? join(root, "edge/dist-node/kaiten.mjs") : NODE_HOST;
    const wrangler = root ? join(root, "node_modules/.bin/wrangler") : WRANGLER;
    const [command, args] = node
      ? [process.execPath, [nodeHost, "--port", String(this.port), "--data", this.stateDir]]
      : [wrangler, this.wranglerArgs(inspectorPort)];
    const child = spawn(command, args, {
      cwd: root ?? ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        ...(node
          ? { ...(this.authOff() ? { KAITEN_AUTH: "off" } : {}), ...this.options.vars }
          : {}),
        // Offline (docs/DEVELOPMENT.md, "Pinned versions, and why").
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        WRANGLER_SEND_METRICS: "false",
        WRANGLER_HIDE_BANNER: "true",
        // wrangler's own debug logs go with the state, not to ~/.config/.wrangler/logs.
        WRANGLER_LOG_PATH: join(this.stateDir, "wrangler-logs"),
        NO_COLOR: "1",
      },
    });
    if (child.pid === undefined) throw new Error(`could not spawn ${command}`);
    this.pgid = child.pid;
    liveGroups.add(child.pid);
    child.stdout?.on("data", (d: Buffer) => this.append(d.toString()));
    child.stderr?.on("data", (d: Buffer) => this.append(d.toString()));
    child.on("exit", (code, signal) => this.append(`--- broker exited: ${code ?? signal} ---\n`));
    try {
      await this.waitUntilReady(child);
    } catch (error) {
      await this.end("SIGKILL", 5_000);
      if (error instanceof PortInUse) throw error;
      throw this.failure((error as Error).message);
    }
  }

  private wranglerArgs(inspectorPort: number): string[] {
    return [
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(this.port),
      // A caller that profiles chooses the port itself; wrangler refuses the flag twice.
      ...(this.options.args?.includes("--inspector-port")
        ? []
        : ["--inspector-port", String(inspectorPort)]),
      "--persist-to",
      this.stateDir,
      "--show-interactive-dev-session=false",
      ...(this.authOff() ? ["--var", "KAITEN_AUTH:off"] : []),
      ...Object.entries(this.options.vars ?? {}).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
      ...(this.options.args ?? []),
    ];
  }

  /**
   * wrangler.toml ships closed (KAITEN_AUTH = "jwt"), and so does the Node host; tests that
   * check auth pass their own KAITEN_AUTH and keys, the others run open as `npm start` does.
   */
  private authOff(): boolean {
    const o = this.options;
    if (o.asConfigured || o.vars?.KAITEN_AUTH !== undefined) return false;
    return !o.args?.some((a) => a.startsWith("KAITEN_AUTH:"));
  }

  private async waitUntilReady(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 60_000);
    while (Date.now() < deadline) {
      if (/Address already in use|cannot listen/.test(this.sinceStart)) {
        throw new PortInUse(`port ${this.port} is in use`);
      }
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error("the broker exited before it answered");
      }
      try {
        // The Worker itself answers /v1 (with auth on and no key, with AUTH_NOT_CONFIGURED);
        // wrangler dev's proxy answers other things while it is still starting.
        const response = await fetch(`${this.url}/v1`, { signal: AbortSignal.timeout(2_000) });
        const body = (await response.json().catch(() => null)) as {
          name?: string;
          error?: { code?: string };
        } | null;
        if (body?.name === "kaiten" || body?.error?.code === "AUTH_NOT_CONFIGURED") return;
      } catch {
        // Not listening yet.
      }
      await sleep(100);
    }
    throw new Error(`the broker did not answer GET /v1 within the start timeout`);
  }

  private async end(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    const pgid = this.pgid;
    if (pgid === 0) return;
    signalGroup(pgid, signal);
    const deadline = Date.now() + graceMs;
    while (groupAlive(pgid) && Date.now() < deadline) await sleep(25);
    if (groupAlive(pgid)) signalGroup(pgid, "SIGKILL");
    while (groupAlive(pgid) && Date.now() < deadline + 5_000) await sleep(25);
    if (groupAlive(pgid)) throw this.failure(`process group ${pgid} survived SIGKILL`);
    liveGroups.delete(pgid);
    this.pgid = 0;
  }

  private append(text: string): void {
    this.output = (this.output + text).slice(-OUTPUT_BYTES);
    this.sinceStart = (this.sinceStart + text).slice(-OUTPUT_BYTES);
  }

  /** An Error whose message ends with the broker's recent output. */
  failure(message: string): Error {
    return new Error(`${message}\n--- broker output (tail) ---\n${this.output}`);
  }
}

/**
 * Starts a broker for the current test file (beforeAll) and disposes of it (afterAll), even
 * when a test failed; prints the broker's output after a failed test. Returns a getter, since
 * the broker exists only once beforeAll ran.
 */
export function useBroker(options: BrokerOptions = {}): () => Broker {
  let broker: Broker | null = null;
  beforeAll(async () => {
    broker = await Broker.start(options);
  });
  afterEach((context) => {
    if (broker && context.task.result?.state === "fail") {
      console.error(`--- broker output (tail) ---\n${broker.logs()}`);
    }
  });
  afterAll(async () => {
    await broker?.dispose();
  });
  return () => {
    if (!broker) throw new Error("the broker has not started");
    return broker;
  };
}
