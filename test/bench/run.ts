/**
 * `npm run bench`: starts Kaiten (wrangler dev) and both relays, runs the workloads against
 * each in turn with load generators in processes of their own, prints the table, writes
 * every figure to test/results/bench.json and the table into docs/BENCHMARKS.md.
 */

import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cpuSeconds } from "../lib/proc.ts";
import { benchConfig } from "./config.ts";
import { profiled } from "./profiler.ts";
import {
  type BenchResults,
  baseTable,
  costOf,
  sdkTable,
  table,
  updateBenchmarksDoc,
} from "./report.ts";
import { startKaiten, startNodeHost, startRelay, type Target } from "./targets.ts";
import { w1, w1sdk, w2, w2one, w2sdk, w2sdkspread, w3, w3sdk, w4, w5, w6 } from "./workloads.ts";

/** The repository root: the build folder is node_modules/.cache/kaiten-bench. */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const config = benchConfig();

const WORKLOADS = { w1, w1sdk, w2, w2one, w2sdk, w2sdkspread, w3, w3sdk, w4, w5, w6 } as const;
type WorkloadName = keyof typeof WORKLOADS;
/**
 * Workloads that need a log (the relays store nothing), or Kaiten's HTTP API (the SDK's
 * metadata lookup), or that are the SDK rows' baselines (w2one).
 */
const NEEDS_STORAGE = new Set<WorkloadName>([
  "w3",
  "w4",
  "w1sdk",
  "w2one",
  "w2sdk",
  "w2sdkspread",
  "w3sdk",
]);
/**
 * Workloads measured on a server process of their own: memory per connection is RSS growth,
 * and a process that ran other workloads first reuses memory it freed, which hides growth.
 */
const FRESH = new Set<WorkloadName>(["w5"]);

async function start(name: string): Promise<Target> {
  if (name === "kaiten")
    return startKaiten(config.wranglerArgs, {
      direct: config.kaitenDirect,
      inspector: config.profileDir !== "",
    });
  if (name === "kaiten-base") {
    if (!config.baseRoot) throw new Error("the kaiten-base target needs BENCH_BASE_ROOT");
    return startKaiten(config.wranglerArgs, {
      direct: config.kaitenDirect,
      root: config.baseRoot,
      name: "kaiten-base",
    });
  }
  if (name === "node") return startNodeHost();
  if (name === "node-base") {
    if (!config.baseRoot) throw new Error("the node-base target needs BENCH_BASE_ROOT");
    return startNodeHost({ root: config.baseRoot, name: "node-base" });
  }
  if (name === "ws" || name === "uws" || name === "uws-fsync" || name === "uws-sqlite")
    return startRelay(name);
  throw new Error(
    `unknown target ${name} (kaiten, kaiten-base, node, node-base, ws, uws, uws-fsync, uws-sqlite)`,
  );
}

/** The figure a repeated workload's runs are ranked by (higher is better). */
const HEADLINE: Partial<Record<WorkloadName, string>> = {
  w1: "ackedPerSecond",
  w1sdk: "ackedPerSecond",
  w3: "recordsPerSecond",
  w3sdk: "recordsPerSecond",
  w6: "inPerSecond",
};

/**
 * Runs a short workload `config.repeat` times and keeps the run with the median headline
 * figure (a shared, noisy machine); the others' figures go along as `runs`.
 */
async function repeated(w: WorkloadName, t: Target, once: () => Promise<object>) {
  const key = HEADLINE[w];
  const times = key ? config.repeat : 1;
  const runs: Array<Record<string, unknown>> = [];
  for (let i = 0; i < times; i++) {
    process.stdout.write(`${w} on ${t.name}${times > 1 ? ` (${i + 1}/${times})` : ""}… `);
    const started = performance.now();
    const r = (await once()) as Record<string, unknown>;
    console.log(`${((performance.now() - started) / 1000).toFixed(1)} s`, JSON.stringify(r));
    runs.push(r);
  }
  if (!key) return runs[0];
  const sorted = [...runs].sort((a, b) => Number(a[key]) - Number(b[key]));
  const median = sorted[Math.floor((sorted.length - 1) / 2)] as Record<string, unknown>;
  return { ...median, runs: runs.map((r) => r[key]) };
}

/**
 * Runs a workload, under the CPU profiler for Kaiten when BENCH_PROFILE_DIR is set, and adds
 * the CPU seconds the server (and wrangler dev's proxy) used meanwhile to its figures.
 */
async function measure<T>(
  t: Target,
  w: string,
  fn: () => Promise<T>,
): Promise<T & { cpu: CpuUse }> {
  const dir = config.profileDir;
  const before = cpuUse(t);
  let result: T;
  if (!dir || t.inspectorPort === null) result = await fn();
  else {
    mkdirSync(dir, { recursive: true });
    result = await profiled(t.inspectorPort, dir, `${w}-${t.name}`, fn);
  }
  const after = cpuUse(t);
  const cpu = {
    server: after.server - before.server,
    proxy: after.proxy - before.proxy,
    wall: after.wall - before.wall,
  };
  return { ...result, cpu };
}

interface CpuUse {
  server: number;
  proxy: number;
  wall: number;
}

function cpuUse(t: Target): CpuUse {
  const proxy = t.proxyPid();
  return {
    server: cpuSeconds(t.serverPid()),
    proxy: proxy ? cpuSeconds(proxy) : 0,
    wall: performance.now() / 1000,
  };
}

function environment() {
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    loadAverageAtStart: loadavg().map((n) => Number(n.toFixed(2))),
    commit: gitCommit(),
    config,
  };
}

/** The commit measured, marked "+ uncommitted changes" when the tree differs from it. */
function gitCommit(): string {
  const git = (...args: string[]) =>
    spawnSync("git", args, { cwd: ROOT, encoding: "utf8" }).stdout?.trim() ?? "";
  const head = git("rev-parse", "--short", "HEAD") || "unknown";
  return git("status", "--porcelain", "--untracked-files=no")
    ? `${head} + uncommitted changes`
    : head;
}

async function main(): Promise<void> {
  const env = environment();
  const targets: Target[] = [];
  const results: BenchResults = {};
  try {
    for (const name of config.targets) targets.push(await start(name));
    // Each workload runs on every target before the next one, so that the figures compared
    // in a row were taken under the same conditions of this shared machine.
    for (const w of config.workloads as WorkloadName[]) {
      const run = WORKLOADS[w] as (t: Target, c: typeof config) => Promise<unknown>;
      if (!run) throw new Error(`unknown workload ${w}`);
      const byTarget: Record<string, unknown> = {};
      for (const shared of targets) {
        if (NEEDS_STORAGE.has(w) && !shared.stores) continue;
        const t = FRESH.has(w) ? await start(shared.name) : shared;
        try {
          byTarget[t.name] = await repeated(w, t, () => measure(t, w, () => run(t, config)));
        } finally {
          if (t !== shared) await t.stop();
        }
      }
      (results as Record<string, unknown>)[w] = byTarget;
    }
  } finally {
    for (const t of targets) await t.stop().catch((e) => console.error(`stopping ${t.name}:`, e));
  }
  report(env, results);
}

function report(env: ReturnType<typeof environment>, results: BenchResults): void {
  const md = [table(results), sdkTable(results), baseTable(results)].filter(Boolean).join("\n\n");
  console.log(`\n${md}\n`);
  const costs = {
    w1: results.w1?.kaiten?.cost ? costOf(results.w1.kaiten.cost) : null,
    w2: results.w2?.kaiten?.cost ? costOf(results.w2.kaiten.cost) : null,
  };
  const dir = join(ROOT, "test/results");
  mkdirSync(dir, { recursive: true });
  const json = join(dir, "bench.json");
  writeFileSync(json, `${JSON.stringify({ ...env, results, costs }, null, 2)}\n`);
  console.log(`figures: ${json}`);
  const stamp = `Last run: ${env.date.slice(0, 10)}, commit ${env.commit}, Node ${env.node}, ${env.cores} × ${env.cpu}, load average at start ${env.loadAverageAtStart.join(" ")}.`;
  if (process.env.BENCH_UPDATE_DOCS !== "false") {
    const doc = join(ROOT, "docs/BENCHMARKS.md");
    if (updateBenchmarksDoc(doc, `${stamp}\n\n${md}`)) console.log(`table written to ${doc}`);
  }
}

// Exit through process.exit so that the exit hooks stop every broker and child process.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
