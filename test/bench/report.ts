/**
 * The bench's output: a Markdown table (Kaiten beside both relays, with ratios), the cost per
 * million events at Cloudflare's published Durable Objects prices, a JSON file of every
 * figure, and the table written into docs/BENCHMARKS.md between its markers.
 */
import { readFileSync, writeFileSync } from "node:fs";
import type { ResumeResult } from "./messages.ts";
import type { TargetName } from "./targets.ts";
import type { CostInputs, W1Result, W2Result, W3Result, W5Result, W6Result } from "./workloads.ts";

/**
 * Durable Objects prices (Workers Paid, beyond the included amounts), from
 * https://developers.cloudflare.com/durable-objects/platform/pricing/ : requests $0.15 per
 * million, incoming WebSocket messages billed 20:1 as requests, duration $12.50 per million
 * GB-s at 128 MB per object, SQLite rows written $1.00 per million.
 */
export const PRICES = {
  requestsPerMillion: 0.15,
  messagesPerRequest: 20,
  gbSecondsPerMillion: 12.5,
  objectGb: 0.128,
  rowsWrittenPerMillion: 1.0,
} as const;

export interface Cost {
  rowsPerMillion: number;
  messagesPerMillion: number;
  requestsPerMillion: number;
  gbSecondsPerMillion: number;
  dollarsPerMillion: number;
}

export function costOf(c: CostInputs): Cost {
  const perMillion = (n: number) => (n / c.records) * 1e6;
  const rowsPerMillion = perMillion(c.rowsWritten);
  const messagesPerMillion = perMillion(c.incomingMessages);
  const requestsPerMillion = messagesPerMillion / PRICES.messagesPerRequest;
  const gbSecondsPerMillion = perMillion(c.activeSeconds * PRICES.objectGb);
  const dollarsPerMillion =
    (rowsPerMillion * PRICES.rowsWrittenPerMillion +
      requestsPerMillion * PRICES.requestsPerMillion +
      gbSecondsPerMillion * PRICES.gbSecondsPerMillion) /
    1e6;
  return {
    rowsPerMillion,
    messagesPerMillion,
    requestsPerMillion,
    gbSecondsPerMillion,
    dollarsPerMillion,
  };
}

/** Every figure of one run, by workload and target. */
export interface BenchResults {
  w1?: Partial<Record<TargetName, W1Result>>;
  w2?: Partial<Record<TargetName, W2Result>>;
  w3?: Partial<Record<TargetName, W3Result>>;
  w4?: Partial<Record<TargetName, ResumeResult>>;
  w5?: Partial<Record<TargetName, W5Result>>;
  w6?: Partial<Record<TargetName, W6Result>>;
  w1sdk?: Partial<Record<TargetName, W1Result>>;
  w2sdk?: Partial<Record<TargetName, W2Result>>;
  w2one?: Partial<Record<TargetName, W2Result>>;
  w2sdkspread?: Partial<Record<TargetName, W2Result>>;
  w3sdk?: Partial<Record<TargetName, W3Result>>;
}

const int = (n: number | undefined) =>
  n === undefined ? "n/a" : Math.round(n).toLocaleString("en-US");
const ms = (n: number) => (n < 10 ? n.toFixed(1) : Math.round(n).toString());
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || b === 0 ? "" : `${(a / b).toFixed(2)}×`;

/** A row: the workload, a cell per target (TARGETS), ratios (RATIOS), the target figure. */
type Row = string[];

/** The table's columns, in order. */
const TARGETS = ["kaiten", "node", "ws", "uws", "uws-fsync", "uws-sqlite"] as const;
/** Ratio columns: [numerator, denominator]. */
const RATIOS = [
  ["kaiten", "ws"],
  ["kaiten", "uws"],
  ["node", "uws"],
  ["node", "uws-fsync"],
  ["node", "uws-sqlite"],
] as const;
const blanks = () => RATIOS.map(() => "");

/** A row of throughput figures where higher is better: ratios to the relays. */
function rateRow(name: string, target: string, f: Partial<Record<TargetName, number>>): Row {
  return [
    name,
    ...TARGETS.map((t) => int(f[t])),
    ...RATIOS.map(([a, b]) => ratio(f[a], f[b])),
    target,
  ];
}

/** A row of other cells, one per target. */
function cellRow(name: string, cells: (t: TargetName) => string, target: string): Row {
  return [name, ...TARGETS.map(cells), ...blanks(), target];
}

function pick<T, V>(r: Partial<Record<TargetName, T>> | undefined, f: (t: T) => V) {
  const out: Partial<Record<TargetName, V>> = {};
  for (const name of TARGETS) {
    const v = r?.[name];
    if (v !== undefined) out[name] = f(v);
  }
  return out;
}

function latencyCell(r: W2Result | undefined): string {
  if (!r) return "n/a";
  const steady = r.p99SteadyMs === undefined ? "" : ` (${ms(r.p99SteadyMs)})`;
  return `${ms(r.p50Ms)} / ${ms(r.p99Ms)}${steady} / ${ms(r.maxMs)}`;
}

function w2Rows(w2: BenchResults["w2"]): Row[] {
  const lossCell = (r: W2Result | undefined) =>
    r ? `${r.lost} / ${r.duplicates + r.mismatched}` : "n/a";
  return [
    rateRow(
      "W2 fan-out: delivered records/s (200 subscribers)",
      "≥ 400,000",
      pick(w2, (r) => r.deliveredPerSecond),
    ),
    cellRow(
      "W2 produce→deliver latency p50 / p99 (p99 after the first second) / max, ms",
      (t) => latencyCell(w2?.[t]),
      "p99 ≤ 50",
    ),
    cellRow("W2 lost / duplicated", (t) => lossCell(w2?.[t]), "0 / 0"),
  ];
}

function costRows(r: BenchResults): Row[] {
  const rows: Row[] = [];
  for (const [label, result] of [
    ["W1", r.w1?.kaiten?.cost],
    ["W2", r.w2?.kaiten?.cost],
  ] as const) {
    if (!result) continue;
    const c = costOf(result);
    const cost = `${int(c.rowsPerMillion)} / ${int(c.messagesPerMillion)} / $${c.dollarsPerMillion.toFixed(4)}`;
    rows.push(
      cellRow(
        `${label} cost per million records (Cloudflare): rows written / incoming messages / $`,
        (t) => (t === "kaiten" ? cost : "n/a"),
        "≤ $0.02",
      ),
    );
  }
  return rows;
}

export function table(r: BenchResults): string {
  const w4 = r.w4;
  const rows: Row[] = [
    rateRow(
      "W1 produce: acked records/s",
      "≥ 300,000; Node host ≥ 0.5× uWS",
      pick(r.w1, (x) => x.ackedPerSecond),
    ),
    ...w2Rows(r.w2),
    rateRow(
      "W3 catch-up: records/s",
      "≥ 1,000,000; Node host ≥ 1,500,000",
      pick(r.w3, (x) => x.recordsPerSecond),
    ),
    cellRow(
      "W4 resume: gaps / duplicates",
      (t) => {
        const x = w4?.[t];
        return x ? `${x.gaps} / ${x.duplicates + x.mismatched}` : "n/a";
      },
      "0 / 0",
    ),
    [
      "W5 idle: KiB per connection (server RSS; lower is better)",
      ...TARGETS.map((t) => {
        const v = r.w5?.[t]?.kibPerConnection;
        return v === undefined ? "n/a" : v.toFixed(1);
      }),
      ...RATIOS.map(([a, b]) => ratio(r.w5?.[a]?.kibPerConnection, r.w5?.[b]?.kibPerConnection)),
      "≤ 10",
    ],
    rateRow(
      "W6 64 partitions: records/s in",
      "",
      pick(r.w6, (x) => x.inPerSecond),
    ),
    rateRow(
      "W6 64 partitions: records/s out",
      "",
      pick(r.w6, (x) => x.outPerSecond),
    ),
    ...costRows(r),
  ];
  for (const t of ["kaiten", "node"] as const) {
    const w3 = r.w3?.[t];
    if (w3 && (w3.lost || w3.duplicates))
      rows.push(
        cellRow(
          `W3 lost / duplicated (${t})`,
          (x) => (x === t ? `${w3.lost} / ${w3.duplicates}` : ""),
          "0 / 0",
        ),
      );
  }
  const head =
    "| workload | Kaiten (wrangler dev) | Kaiten Node host | `ws` relay | uWS relay | uWS relay + fsync | uWS relay + SQLite | Kaiten / `ws` | Kaiten / uWS | Node host / uWS | Node host / uWS + fsync | Node host / uWS + SQLite | target |";
  const sep = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|";
  return [head, sep, ...rows.map((row) => `| ${row.join(" | ")} |`)].join("\n");
}

/**
 * Kaiten through @kaiten/client beside the lean client, same broker, same run: what users
 * get, and how far it is from what the broker gives; on each host that ran the SDK rows.
 */
export function sdkTable(r: BenchResults): string {
  const hosts = (["kaiten", "node"] as const).filter(
    (h) => r.w1sdk?.[h] || r.w2sdk?.[h] || r.w3sdk?.[h],
  );
  if (!hosts.length) return "";
  const loss = (x: W2Result | undefined) =>
    x ? `${x.lost} / ${x.duplicates + x.mismatched}` : "n/a";
  const cpu = (x: { clientCpuUs: number } | undefined) => (x ? x.clientCpuUs.toFixed(2) : "n/a");
  type Pair<T> = (h: (typeof hosts)[number]) => [T | undefined, T | undefined];
  const w1: Pair<W1Result> = (h) => [r.w1?.[h], r.w1sdk?.[h]];
  const w2: Pair<W2Result> = (h) => [r.w2?.[h], r.w2sdk?.[h]];
  const w3: Pair<W3Result> = (h) => [r.w3?.[h], r.w3sdk?.[h]];
  const rateCells = <T>(pair: Pair<T>, f: (x: T) => number) =>
    hosts.flatMap((h) => {
      const [lean, sdk] = pair(h).map((x) => (x === undefined ? undefined : f(x)));
      return [int(lean), int(sdk), ratio(sdk, lean)];
    });
  const cells = <T>(pair: Pair<T>, f: (x: T | undefined) => string) =>
    hosts.flatMap((h) => {
      const [lean, sdk] = pair(h);
      return [f(lean), f(sdk), ""];
    });
  const rows: string[][] = [
    [
      "W1 produce: acked records/s (one producer)",
      ...rateCells(w1, (x) => x.ackedPerSecond),
      "≥ 300,000 and ≥ 0.9× lean",
    ],
    [
      "W2 fan-out: delivered records/s (200 subscribers; SDK: all in one process)",
      ...rateCells(w2, (x) => x.deliveredPerSecond),
      "≥ 400,000",
    ],
    [
      "W2 produce→deliver latency p50 / p99 (p99 after the first second) / max, ms",
      ...cells(w2, latencyCell),
      "p99 ≤ 50",
    ],
    [
      "W2 the same, lean client with all 200 in one process (the SDK's shape)",
      ...hosts.flatMap((h) => [latencyCell(r.w2one?.[h]), "", ""]),
      "",
    ],
    [
      "W2 the same, SDK spread over processes as the lean client is (`w2sdkspread`)",
      ...hosts.flatMap((h) => ["", r.w2sdkspread?.[h] ? latencyCell(r.w2sdkspread[h]) : "", ""]),
      "",
    ],
    [
      "W2 longest event-loop stall / GC pause of a subscriber process, ms",
      ...cells(w2, (x) => (x ? `${ms(x.clientLoopDelayMaxMs)} / ${ms(x.clientGcMaxMs)}` : "n/a")),
      "",
    ],
    ["W2 lost / duplicated", ...cells(w2, loss), "0 / 0"],
    [
      "W3 catch-up: records/s (one subscriber)",
      ...rateCells(w3, (x) => x.recordsPerSecond),
      "≥ 1,000,000",
    ],
  ];
  for (const [w, pair] of [
    ["W1", w1],
    ["W2", w2],
    ["W3", w3],
  ] as const) {
    rows.push([
      `${w} client CPU per record, µs (lower is better)`,
      ...hosts.flatMap((h) => {
        const [lean, sdk] = (pair as Pair<{ clientCpuUs: number }>)(h);
        return [cpu(lean), cpu(sdk), ratio(sdk?.clientCpuUs, lean?.clientCpuUs)];
      }),
      "",
    ]);
  }
  const name = { kaiten: "wrangler dev", node: "Node host" } as const;
  const head = `| through the SDK | ${hosts.map((h) => `lean client (${name[h]}) | \`@kaiten/client\` (${name[h]}) | SDK / lean`).join(" | ")} | target |`;
  const sep = `|---|${hosts.map(() => "---:|---:|---:|").join("")}---|`;
  return [head, sep, ...rows.map((row) => `| ${row.join(" | ")} |`)].join("\n");
}

/**
 * This tree's brokers beside BENCH_BASE_ROOT's (`kaiten-base`, `node-base`), same session,
 * same workloads: the figures a change is judged by. Empty when no base target ran.
 */
export function baseTable(r: BenchResults): string {
  const pairs = (
    [
      ["kaiten", "kaiten-base", "wrangler dev"],
      ["node", "node-base", "Node host"],
    ] as const
  ).filter(([, base]) => Object.values(r).some((byTarget) => byTarget?.[base]));
  if (!pairs.length) return "";
  type Figure = [string, (x: BenchResults) => Partial<Record<TargetName, number>>];
  const figures: Figure[] = [
    ["W1 produce: acked records/s", (x) => pick2(x.w1, (v) => v.ackedPerSecond)],
    ["W1 through the SDK: acked records/s", (x) => pick2(x.w1sdk, (v) => v.ackedPerSecond)],
    ["W2 fan-out: delivered records/s", (x) => pick2(x.w2, (v) => v.deliveredPerSecond)],
    ["W2 produce→deliver p99, ms (lower is better)", (x) => pick2(x.w2, (v) => v.p99Ms)],
    ["W3 catch-up: records/s", (x) => pick2(x.w3, (v) => v.recordsPerSecond)],
    ["W3 through the SDK: records/s", (x) => pick2(x.w3sdk, (v) => v.recordsPerSecond)],
    ["W6 64 partitions: records/s in", (x) => pick2(x.w6, (v) => v.inPerSecond)],
  ];
  const rows = figures
    .map(([name, f]) => {
      const v = f(r);
      return [
        name,
        ...pairs.flatMap(([t, base]) => [int(v[t]), int(v[base]), ratio(v[t], v[base])]),
      ];
    })
    .filter((row) => row.slice(1).some((c) => c !== "n/a" && c !== ""));
  const head = `| this tree against BENCH_BASE_ROOT | ${pairs.map(([, , n]) => `${n} | ${n}, base | this / base`).join(" | ")} |`;
  const sep = `|---|${pairs.map(() => "---:|---:|---:|").join("")}`;
  return [head, sep, ...rows.map((row) => `| ${row.join(" | ")} |`)].join("\n");
}

/** Like pick, over every target a run may have, the base targets included. */
function pick2<T>(r: Partial<Record<TargetName, T>> | undefined, f: (t: T) => number) {
  const out: Partial<Record<TargetName, number>> = {};
  for (const [name, v] of Object.entries(r ?? {}) as Array<[TargetName, T]>) out[name] = f(v);
  return out;
}

const START = "<!-- bench:table:start -->";
const END = "<!-- bench:table:end -->";

/** Replaces the text between the markers of docs/BENCHMARKS.md with the latest table. */
export function updateBenchmarksDoc(path: string, body: string): boolean {
  let doc: string;
  try {
    doc = readFileSync(path, "utf8");
  } catch {
    return false;
  }
  const from = doc.indexOf(START);
  const to = doc.indexOf(END);
  if (from < 0 || to < from) return false;
  writeFileSync(path, `${doc.slice(0, from + START.length)}\n${body}\n${doc.slice(to)}`);
  return true;
}
