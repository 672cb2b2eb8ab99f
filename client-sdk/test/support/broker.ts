/**
 * A real broker for the SDK's integration tests: `wrangler dev` (and its workerd) as a
 * detached process group on a free port with a state directory of its own. Stopping kills
 * the whole group; the state directory can outlive a stop so a restart resumes the data.
 *
 * The Worker is bundled once per test process (`wrangler deploy --dry-run`) and served
 * from that bundle: a `wrangler dev` of the repository would reload, dropping every socket,
 * whenever a file of the repository changes while the tests run.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const WRANGLER = join(ROOT, "node_modules/.bin/wrangler");
const OFFLINE = {
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_HIDE_BANNER: "true",
  NO_COLOR: "1",
};
const live = new Set<number>();
// No workerd may outlive the test process, however it ends.
process.once("exit", () => {
  for (const pgid of live) kill(pgid, "SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    for (const pgid of live) kill(pgid, "SIGKILL");
    process.exit(1);
  });
}

function kill(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let snapshot: string | undefined;

/** A wrangler.toml serving a bundle of the Worker as it is now: same objects, migrations and vars, no static assets. */
function snapshotConfig(): string {
  if (snapshot) return snapshot;
  const dir = mkdtempSync(join(tmpdir(), "kaiten-sdk-worker-"));
  execFileSync(WRANGLER, ["deploy", "--dry-run", "--outdir", dir], {
    cwd: ROOT,
    env: { ...process.env, ...OFFLINE },
    stdio: "ignore",
  });
  let inAssets = false;
  const config = readFileSync(join(ROOT, "wrangler.toml"), "utf8")
    .split("\n")
    .filter((line) => {
      if (line.startsWith("[")) inAssets = line.trim() === "[assets]";
      return !inAssets;
    })
    .join("\n")
    .replace(/^main = .*$/m, `main = "worker.js"\nno_bundle = true`);
  writeFileSync(join(dir, "wrangler.toml"), config);
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  snapshot = dir;
  return dir;
}

export interface BrokerOptions {
  /** `wrangler dev` arguments, such as test/lib/auth.ts's jwtArgs(); without a `KAITEN_AUTH` var the broker runs with auth off. Default: none */
  args?: string[];
  /** Headers of the launcher's own API calls (createTopic, readAll), such as an admin token. Default: none */
  headers?: Record<string, string>;
}

/**
 * The broker's HTTP API as the tests use it beside the SDK (to create topics and to read
 * what was stored), the same for every host's broker.
 */
export abstract class BrokerHttp {
  abstract readonly url: string;
  abstract readonly options: BrokerOptions;

  /** JSON from the broker's HTTP API. */
  async api<T = Record<string, unknown>>(path: string, init?: RequestInit): Promise<T> {
    const res = await fetch(`${this.url}${path}`, { ...init, headers: this.options.headers });
    return (await res.json()) as T;
  }

  async createTopic(name: string, config: Record<string, unknown> = {}): Promise<void> {
    const res = await fetch(`${this.url}/v1/topics`, {
      method: "POST",
      headers: this.options.headers,
      body: JSON.stringify({ name, ...config }),
    });
    if (res.status >= 300) throw new Error(`create ${name}: ${res.status} ${await res.text()}`);
  }

  /** Every record of a partition, read over HTTP (not through the SDK). */
  async readAll(
    topic: string,
    partition: number,
  ): Promise<Array<{ offset: number; key: string | null; value: unknown }>> {
    const out: Array<{ offset: number; key: string | null; value: unknown }> = [];
    let offset = (
      await this.api<{ partitions: Array<{ earliestOffset: number }> }>(`/v1/topics/${topic}`)
    ).partitions[partition]?.earliestOffset as number;
    for (;;) {
      const page = await this.api<{
        records: typeof out;
        nextOffset: number;
        highWatermark: number;
      }>(`/v1/topics/${topic}/partitions/${partition}/records?offset=${offset}&limit=1000`);
      out.push(...page.records);
      if (page.nextOffset >= page.highWatermark) return out;
      offset = page.nextOffset;
    }
  }
}

export class Broker extends BrokerHttp {
  #child: ChildProcess | undefined;
  #output = "";

  private constructor(
    readonly port: number,
    readonly stateDir: string,
    readonly options: BrokerOptions,
  ) {
    super();
  }

  static async start(options: BrokerOptions = {}): Promise<Broker> {
    const broker = new Broker(
      await freePort(),
      mkdtempSync(join(tmpdir(), "kaiten-sdk-")),
      options,
    );
    await broker.launch();
    return broker;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The last output of wrangler, for failure messages. */
  get output(): string {
    return this.#output.slice(-3_000);
  }

  async launch(): Promise<void> {
    const args = [
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(this.port),
      "--persist-to",
      this.stateDir,
      // wrangler.toml ships closed; these tests run open, as `npm start` does, unless told otherwise.
      ...(this.options.args?.some((a) => a.startsWith("KAITEN_AUTH:"))
        ? []
        : ["--var", "KAITEN_AUTH:off"]),
      ...(this.options.args ?? []),
    ];
    // Its own inspector port: the default 9229 would clash with any other wrangler dev running.
    args.push("--inspector-port", String(await freePort()));
    const child = spawn(WRANGLER, [...args, "--show-interactive-dev-session=false"], {
      cwd: snapshotConfig(),
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...OFFLINE },
    });
    this.#child = child;
    live.add(child.pid as number);
    const collect = (d: Buffer) => {
      this.#output = (this.#output + d).slice(-64_000);
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) break;
      try {
        // GET /v1 answers without a token, in either auth mode.
        const res = await fetch(`${this.url}/v1`, { signal: AbortSignal.timeout(2_000) });
        if (res.ok) return;
      } catch {
        // Not listening yet.
      }
      await sleep(100);
    }
    await this.stop();
    throw new Error(`wrangler dev did not start\n${this.output}`);
  }

  /** Kills the process group (a crash, as far as clients can tell); the state stays. */
  async stop(): Promise<void> {
    const pgid = this.#child?.pid;
    if (!pgid) return;
    kill(pgid, "SIGKILL");
    while (kill(pgid, 0)) await sleep(20);
    live.delete(pgid);
    this.#child = undefined;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.stateDir, { recursive: true, force: true });
  }
}
