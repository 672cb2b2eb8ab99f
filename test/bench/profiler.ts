/**
 * CPU profiles of the broker while a workload runs: wrangler dev's runtime workerd has a V8
 * inspector, and the Chrome DevTools protocol over its WebSocket (Profiler.enable, start,
 * stop) returns a .cpuprofile that Chrome DevTools or speedscope open. The bench takes one
 * per Kaiten workload when BENCH_PROFILE_DIR is set, and prints where the time went.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";

interface InspectorTarget {
  webSocketDebuggerUrl: string;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

/**
 * The DevTools WebSocket of wrangler dev's inspector (`--inspector-port`). Its proxy speaks
 * for the user Worker's isolate (the Worker and its Durable Objects); the runtime's own
 * inspector takes a single session, which wrangler holds.
 */
export async function inspectorUrl(port: number): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}/json`, { signal: AbortSignal.timeout(5_000) });
  const [target] = (await r.json()) as InspectorTarget[];
  if (!target) throw new Error(`no inspector target on port ${port}`);
  return target.webSocketDebuggerUrl;
}

/** A CPU profile being taken over the DevTools protocol; `stop` returns it. */
export class Profiler {
  private nextId = 1;
  private readonly waiting = new Map<number, (result: unknown) => void>();

  private constructor(private readonly ws: WebSocket) {
    // wrangler's inspector proxy answers each request with a message carrying its id (and
    // forwards the runtime's own traffic, with ids of its own range, which are ignored).
    ws.on("message", (data) => {
      const m = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: unknown };
      if (m.id !== undefined) this.waiting.get(m.id)?.(m.result ?? { error: m.error ?? m });
    });
  }

  static async start(url: string, intervalUs = 200): Promise<Profiler> {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    const p = new Profiler(ws);
    await p.call("Profiler.enable");
    await p.call("Profiler.setSamplingInterval", { interval: intervalUs });
    await p.call("Profiler.start");
    return p;
  }

  private call(method: string, params: object = {}, timeoutMs = 30_000): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${method}: no answer`)), timeoutMs);
      this.waiting.set(id, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  async stop(): Promise<CpuProfile> {
    const result = (await this.call("Profiler.stop")) as { profile?: CpuProfile; error?: unknown };
    this.ws.close();
    if (!result.profile)
      throw new Error(`Profiler.stop: ${JSON.stringify(result.error).slice(0, 500)}`);
    return result.profile;
  }
}

/** Self time by function, largest first: "45.1%  encodeRecordsFrame (frames.ts:140)". */
export function summarize(profile: CpuProfile, top = 15): string[] {
  const hits = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const n = node.hitCount ?? 0;
    if (n === 0) continue;
    const f = node.callFrame;
    const file = f.url.split("/").pop() || "native";
    const name = `${f.functionName || "(anonymous)"} (${file}:${f.lineNumber + 1})`;
    hits.set(name, (hits.get(name) ?? 0) + n);
    total += n;
  }
  return [...hits.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, n]) => `${((100 * n) / total).toFixed(1).padStart(5)}%  ${name}`);
}

/** Profiles the broker's isolate while `fn` runs; writes `{dir}/{name}.cpuprofile`. */
export async function profiled<T>(
  inspectorPort: number,
  dir: string,
  name: string,
  fn: () => Promise<T>,
): Promise<T> {
  let profiler: Profiler;
  try {
    profiler = await Profiler.start(await inspectorUrl(inspectorPort));
  } catch (error) {
    console.error(`no profile of ${name}:`, error);
    return fn();
  }
  try {
    return await fn();
  } finally {
    const profile = await profiler.stop();
    const file = join(dir, `${name}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    console.log(
      `\nprofile ${file}; self time in the broker's isolate:\n${summarize(profile).join("\n")}`,
    );
  }
}
