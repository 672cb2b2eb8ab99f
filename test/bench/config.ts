/**
 * Sizes of the bench, from environment variables. The defaults are the workloads and
 * finish in under a minute each on 2 cores; smaller values make a quick run.
 */
function int(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a whole number`);
  return n;
}

function list(name: string, fallback: string): string[] {
  return (process.env[name] || fallback)
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

export function benchConfig() {
  return {
    /** Which targets and workloads to run. */
    targets: list("BENCH_TARGETS", "kaiten,node,ws,uws,uws-fsync,uws-sqlite"),
    workloads: list("BENCH_WORKLOADS", "w1,w1sdk,w2,w2one,w2sdk,w3,w3sdk,w4,w5,w6"),
    /** Runs of the short workloads (W1, W3, W6); the median is reported. */
    repeat: int("BENCH_REPEAT", 3),
    /** Value bytes of every record. */
    recordBytes: int("BENCH_RECORD_BYTES", 200),
    w1: {
      records: int("BENCH_W1_RECORDS", 100_000),
      batch: int("BENCH_W1_BATCH", 100),
      /** Most records sent and not yet acknowledged. */
      window: int("BENCH_W1_WINDOW", 1_000),
    },
    w2: {
      subscribers: int("BENCH_W2_SUBSCRIBERS", 200),
      rate: int("BENCH_W2_RATE", 2_000),
      durationMs: int("BENCH_W2_DURATION_MS", 10_000),
      /** Records per produced batch: the same 100 as W1, so a batch leaves every 50 ms. */
      batch: int("BENCH_W2_BATCH", 100),
      /** Processes the subscribers are spread over. */
      processes: int("BENCH_W2_PROCESSES", 2),
    },
    w3: {
      records: int("BENCH_W3_RECORDS", 200_000),
      /** The catching-up subscriber's credit window (§5.3), in bytes. */
      credit: int("BENCH_W3_CREDIT", 16 * 1_048_576),
    },
    w4: { records: int("BENCH_W4_RECORDS", 50_000) },
    w5: { connections: int("BENCH_W5_CONNECTIONS", 2_000) },
    w6: {
      partitions: int("BENCH_W6_PARTITIONS", 64),
      producers: int("BENCH_W6_PRODUCERS", 4),
      /** Records per producer. */
      records: int("BENCH_W6_RECORDS", 50_000),
    },
    /** Longest wait for a workload's last record. */
    timeoutMs: int("BENCH_TIMEOUT_MS", 120_000),
    /** Write a CPU profile of the broker per Kaiten workload into this folder. Default: none */
    profileDir: process.env.BENCH_PROFILE_DIR ?? "",
    /** Connect to the runtime workerd directly, skipping wrangler dev's proxy (an experiment). */
    kaitenDirect: process.env.BENCH_KAITEN_DIRECT === "true",
    /**
     * Another checkout (its own node_modules) whose broker the `kaiten-base` target runs under
     * wrangler dev, beside this one's in the same session: a regression check between commits.
     */
    baseRoot: process.env.BENCH_BASE_ROOT ?? "",
    /** Extra `wrangler dev` arguments for the Kaiten broker, space-separated. */
    wranglerArgs: (process.env.BENCH_WRANGLER_ARGS ?? "").split(" ").filter(Boolean),
  };
}

export type BenchConfig = ReturnType<typeof benchConfig>;
