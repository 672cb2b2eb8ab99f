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
  w3sdk?: Partial<Record<TargetName, W3Result>>;
}

const int = (n: number | undefined) =>
  n === undefined ? "n/a" : Math.round(n).toLocaleString("en-US");
const ms = (n: number) => (n < 10 ? n.toFixed(1) : Math.round(n).toString());
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || b === 0 ? "" : `${(a / b).toFixed(2)}×`;

type Row = [string, string, string, string, string, string, string];

/** A row of throughput figures where higher is better: Kaiten's ratios to each relay. */
function rateRow(name: string, target: string, f: Partial<Record<TargetName, number>>): Row {
  return [
    name,
    int(f.kaiten),
    int(f.ws),
    int(f.uws),
    ratio(f.kaiten, f.ws),
    ratio(f.kaiten, f.uws),
    target,
  ];
}

function pick<T, V>(r: Partial<Record<TargetName, T>> | undefined, f: (t: T) => V) {
  const out: Partial<Record<TargetName, V>> = {};
  for (const name of ["kaiten", "ws", "uws"] as const) {
    const v = r?.[name];
    if (v !== undefined) out[name] = f(v);
  }
  return out;
}

function latencyCell(r: W2Result | undefined): string {
  if (!r) return "n/a";
  return `${ms(r.p50Ms)} / ${ms(r.p99Ms)} / ${ms(r.maxMs)}`;
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
    [
      "W2 produce→deliver latency p50 / p99 / max, ms",
      latencyCell(w2?.kaiten),
      latencyCell(w2?.ws),
      latencyCell(w2?.uws),
      "",
      "",
      "p99 ≤ 50",
    ],
    [
      "W2 lost / duplicated",
      lossCell(w2?.kaiten),
      lossCell(w2?.ws),
      lossCell(w2?.uws),
      "",
      "",
      "0 / 0",
    ],
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
    rows.push([
      `${label} cost per million records: rows written / incoming messages / $`,
      `${int(c.rowsPerMillion)} / ${int(c.messagesPerMillion)} / $${c.dollarsPerMillion.toFixed(4)}`,
      "n/a",
      "n/a",
      "",
      "",
      "≤ $0.02",
    ]);
  }
  return rows;
}

export function table(r: BenchResults): string {
  const w3 = r.w3?.kaiten;
  const w4 = r.w4?.kaiten;
  const rows: Row[] = [
    rateRow(
      "W1 produce: acked records/s",
      "≥ 300,000",
      pick(r.w1, (x) => x.ackedPerSecond),
    ),
    ...w2Rows(r.w2),
    rateRow(
      "W3 catch-up: records/s",
      "≥ 1,000,000",
      pick(r.w3, (x) => x.recordsPerSecond),
    ),
    [
      "W4 resume: gaps / duplicates",
      w4 ? `${w4.gaps} / ${w4.duplicates + w4.mismatched}` : "n/a",
      "n/a",
      "n/a",
      "",
      "",
      "0 / 0",
    ],
    [
      "W5 idle: KiB per connection (server RSS; lower is better)",
      ...(["kaiten", "ws", "uws"] as const).map((t) => {
        const v = r.w5?.[t]?.kibPerConnection;
        return v === undefined ? "n/a" : v.toFixed(1);
      }),
      ratio(r.w5?.kaiten?.kibPerConnection, r.w5?.ws?.kibPerConnection),
      ratio(r.w5?.kaiten?.kibPerConnection, r.w5?.uws?.kibPerConnection),
      "≤ 10",
    ] as Row,
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
  if (w3 && (w3.lost || w3.duplicates))
    rows.push(["W3 lost / duplicated", `${w3.lost} / ${w3.duplicates}`, "", "", "", "", "0 / 0"]);
  const head =
    "| workload | Kaiten | `ws` relay | uWS relay | Kaiten / `ws` | Kaiten / uWS | target |";
  const sep = "|---|---:|---:|---:|---:|---:|---|";
  return [head, sep, ...rows.map((row) => `| ${row.join(" | ")} |`)].join("\n");
}

/**
 * Kaiten through @kaiten/client beside the lean client, same broker, same run: what users
 * get, and how far it is from what the broker gives.
 */
export function sdkTable(r: BenchResults): string {
  const lean = { w1: r.w1?.kaiten, w2: r.w2?.kaiten, w3: r.w3?.kaiten };
  const sdk = { w1: r.w1sdk?.kaiten, w2: r.w2sdk?.kaiten, w3: r.w3sdk?.kaiten };
  if (!sdk.w1 && !sdk.w2 && !sdk.w3) return "";
  const loss = (x: W2Result | undefined) =>
    x ? `${x.lost} / ${x.duplicates + x.mismatched}` : "n/a";
  const rows: string[][] = [
    [
      "W1 produce: acked records/s (one producer)",
      int(lean.w1?.ackedPerSecond),
      int(sdk.w1?.ackedPerSecond),
      ratio(sdk.w1?.ackedPerSecond, lean.w1?.ackedPerSecond),
      "≥ 300,000 and ≥ 0.9× lean",
    ],
    [
      "W2 fan-out: delivered records/s (200 subscribers; SDK: all in one process)",
      int(lean.w2?.deliveredPerSecond),
      int(sdk.w2?.deliveredPerSecond),
      ratio(sdk.w2?.deliveredPerSecond, lean.w2?.deliveredPerSecond),
      "≥ 400,000",
    ],
    [
      "W2 produce→deliver latency p50 / p99 / max, ms",
      latencyCell(lean.w2),
      latencyCell(sdk.w2),
      "",
      "p99 ≤ 50",
    ],
    ["W2 lost / duplicated", loss(lean.w2), loss(sdk.w2), "", "0 / 0"],
    [
      "W3 catch-up: records/s (one subscriber)",
      int(lean.w3?.recordsPerSecond),
      int(sdk.w3?.recordsPerSecond),
      ratio(sdk.w3?.recordsPerSecond, lean.w3?.recordsPerSecond),
      "≥ 1,000,000",
    ],
  ];
  const cpu = (x: { clientCpuUs: number } | undefined) => (x ? x.clientCpuUs.toFixed(2) : "n/a");
  for (const w of ["w1", "w2", "w3"] as const) {
    rows.push([
      `${w.toUpperCase()} client CPU per record, µs (lower is better)`,
      cpu(lean[w]),
      cpu(sdk[w]),
      ratio(sdk[w]?.clientCpuUs, lean[w]?.clientCpuUs),
      "",
    ]);
  }
  const head = "| through the SDK | lean client | `@kaiten/client` | SDK / lean | target |";
  const sep = "|---|---:|---:|---:|---|";
  return [head, sep, ...rows.map((row) => `| ${row.join(" | ")} |`)].join("\n");
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
