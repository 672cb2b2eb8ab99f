/**
 * A load generator process: the bench forks one per role (producer, subscribers, idle
 * connections, resume) so that no load runs in the broker's or the bench's own process.
 * Protocol: the parent sends `run` with a task; the child connects and prepares, answers
 * `ready`; the parent sends `go`; the child answers `result` (or `error`) and exits.
 */
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { StartFrom } from "@kaiten/protocol";
import { Histogram } from "./histogram.ts";
import {
  BenchSocket,
  benchRecords,
  type Identity,
  now,
  pipelineProduce,
  produceFrame,
  range,
} from "./lean-client.ts";
import type {
  FromChild,
  GcPauses,
  IdleTask,
  LoopDelay,
  ProduceResult,
  ProduceTask,
  RateTask,
  ResumeResult,
  ResumeTask,
  SubscribeResult,
  SubscribeTask,
  Task,
  ToChild,
} from "./messages.ts";
import { keyedPlan, keyOf } from "./plans.ts";
import { STEADY_AFTER_MS, sdkProduceJob, sdkSubscribeJob } from "./sdk-jobs.ts";

interface Job {
  /** Connects and prepares; resolves when ready for `go`. */
  prepare(): Promise<void>;
  /** The measured part; its result goes back to the parent. */
  go(): Promise<unknown>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function chunks<T>(items: readonly T[], size: number): T[][] {
  return range(Math.ceil(items.length / size)).map((i) => items.slice(i * size, (i + 1) * size));
}

/** Opens `count` sockets, `parallel` at a time (thousands at once overwhelm a small machine). */
async function openMany(
  url: string,
  topic: string,
  partitionOf: (i: number) => number,
  count: number,
  parallel = 50,
): Promise<BenchSocket[]> {
  const sockets: BenchSocket[] = [];
  for (const group of chunks(range(count), parallel)) {
    sockets.push(
      ...(await Promise.all(group.map((i) => BenchSocket.open(url, topic, partitionOf(i))))),
    );
  }
  return sockets;
}

function produceJob(t: ProduceTask): Job {
  let sockets: BenchSocket[] = [];
  const frames: Uint8Array[][] = [];
  const counts: number[][] = [];
  return {
    async prepare() {
      sockets = await openMany(t.url, t.topic, (i) => i, t.partitions);
      const identity: Identity | null = t.idempotent
        ? { producerId: `bench-${t.producer}-${process.pid}`, producerEpoch: 0 }
        : null;
      const plan = t.keyed ? keyedPlan(t.producer, t.records, t.partitions) : [range(t.records)];
      const key = t.keyed ? (no: number) => keyOf(t.producer, no) : undefined;
      plan.forEach((numbers, p) => {
        const batches = chunks(numbers, t.batch);
        // Encoded before the clock starts: the bench measures the broker, not the encoder.
        frames[p] = batches.map((nos, seq) =>
          produceFrame(seq + 1, benchRecords(nos, t.valueBytes, now(), key), identity, seq),
        );
        counts[p] = batches.map((nos) => nos.length);
      });
    },
    async go(): Promise<ProduceResult> {
      const startAt = now();
      const done = await Promise.all(
        sockets.map((s, p) =>
          pipelineProduce(s, frames[p] ?? [], counts[p] ?? [], t.windowRecords),
        ),
      );
      const endAt = Math.max(...done.map((d) => d.endAt));
      const messages = sockets.reduce((n, s) => n + s.messagesSent, 0);
      await Promise.all(sockets.map((s) => s.close()));
      return { acked: done.reduce((n, d) => n + d.acked, 0), startAt, endAt, messages };
    },
  };
}

/** A producer at a fixed rate: a batch every batch/rate seconds, each stamped when sent. */
function rateJob(t: RateTask): Job {
  let socket!: BenchSocket;
  return {
    async prepare() {
      socket = await BenchSocket.open(t.url, t.topic, 0);
    },
    async go(): Promise<ProduceResult> {
      const identity = { producerId: `bench-rate-${process.pid}`, producerEpoch: 0 };
      const batches = Math.round((t.rate * t.durationMs) / 1000 / t.batch);
      const interval = (t.batch / t.rate) * 1000;
      let acked = 0;
      const allAcked = new Promise<void>((resolve, reject) => {
        socket.onAck = (_id, _base, count) => {
          acked += count;
          if (acked === batches * t.batch) resolve();
        };
        socket.onError = (f) => reject(new Error(`produce failed: ${f.code} ${f.message}`));
        socket.closed.then((code) =>
          reject(new Error(`socket closed (${code}) after ${acked} acks`)),
        );
      });
      const startAt = now();
      for (let b = 0; b < batches; b++) {
        // Drift-free schedule: batch b leaves at startAt + b * interval.
        const wait = startAt + b * interval - now();
        if (wait > 0) await sleep(wait);
        const records = benchRecords(range(t.batch, b * t.batch), t.valueBytes, now());
        socket.send(produceFrame(socket.requestId(), records, identity, b));
      }
      await allAcked;
      const result = { acked, startAt, endAt: now(), messages: socket.messagesSent };
      await socket.close();
      return result;
    },
  };
}

function subscribeJob(t: SubscribeTask): Job {
  let sockets: BenchSocket[] = [];
  let startAt = 0;
  const partitionOf = (i: number) => Math.floor(i / t.perPartition);
  const subscribe = (s: BenchSocket) =>
    s.subscribe({
      from: t.from === "earliest" ? StartFrom.Earliest : StartFrom.Latest,
      creditWindow: t.creditWindow,
      latency: t.latency,
      recordNoBase: t.checkRecordNumbers ? 0 : null,
    });
  return {
    async prepare() {
      sockets = await openMany(t.url, t.topic, partitionOf, t.partitions * t.perPartition);
      // Live subscribers must be in place before the producer starts.
      if (t.from === "latest") await Promise.all(sockets.map(subscribe));
    },
    async go(): Promise<SubscribeResult> {
      startAt = now();
      for (const s of sockets) s.steadyFrom = startAt + STEADY_AFTER_MS;
      if (t.from === "earliest") await Promise.all(sockets.map(subscribe));
      const complete = (s: BenchSocket, i: number) =>
        s.stats.records >= (t.expected[partitionOf(i)] ?? 0);
      const deadline = now() + t.timeoutMs;
      while (!sockets.every(complete) && now() < deadline) await sleep(5);
      return summarize(sockets, complete, startAt);
    },
  };
}

function summarize(
  sockets: BenchSocket[],
  complete: (s: BenchSocket, i: number) => boolean,
  startAt: number,
): SubscribeResult {
  const histogram = new Histogram();
  const steady = new Histogram();
  for (const s of sockets) {
    histogram.merge(s.histogram.toData());
    steady.merge(s.steady.toData());
  }
  const sum = (f: (s: BenchSocket) => number) => sockets.reduce((n, s) => n + f(s), 0);
  const got = sockets.filter((s) => s.stats.records > 0);
  return {
    subscribers: sockets.length,
    records: sum((s) => s.stats.records),
    lost: sum((s) => s.stats.lost),
    duplicates: sum((s) => s.stats.duplicates),
    mismatched: sum((s) => s.stats.mismatched),
    incomplete: sockets.filter((s, i) => !complete(s, i)).length,
    startAt,
    firstAt: Math.min(...got.map((s) => s.stats.firstAt)),
    lastAt: Math.max(...got.map((s) => s.stats.lastAt)),
    messages: sum((s) => s.messagesSent),
    histogram: histogram.toData(),
    steadyHistogram: steady.toData(),
  };
}

/** Idle subscribers: connected and subscribed at the tip, then nothing until `go` closes them. */
function idleJob(t: IdleTask): Job {
  let sockets: BenchSocket[] = [];
  return {
    async prepare() {
      sockets = await openMany(t.url, t.topic, () => 0, t.connections);
      for (const group of chunks(sockets, 100)) {
        await Promise.all(
          group.map((s) => s.subscribe({ from: StartFrom.Latest, creditWindow: 65_536 })),
        );
      }
    },
    async go() {
      await Promise.all(sockets.map((s) => s.terminate()));
      return { connections: sockets.length };
    },
  };
}

/**
 * W4: a subscriber follows a producer, drops its connection halfway (no close handshake)
 * and resumes from its saved position and epoch (§5.2); every offset must arrive once.
 */
function resumeJob(t: ResumeTask): Job {
  let producer!: BenchSocket;
  let sub!: BenchSocket;
  const frames: Uint8Array[] = [];
  const counts: number[] = [];
  return {
    async prepare() {
      producer = await BenchSocket.open(t.url, t.topic, 0);
      sub = await BenchSocket.open(t.url, t.topic, 0);
      const identity = { producerId: `bench-resume-${process.pid}`, producerEpoch: 0 };
      for (const [seq, nos] of chunks(range(t.records), t.batch).entries()) {
        frames.push(produceFrame(seq + 1, benchRecords(nos, t.valueBytes, now()), identity, seq));
        counts.push(nos.length);
      }
    },
    async go(): Promise<ResumeResult> {
      const first = await sub.subscribe({ from: StartFrom.Earliest, recordNoBase: 0 });
      const producing = pipelineProduce(producer, frames, counts, 1_000);
      const deadline = now() + t.timeoutMs;
      while (sub.stats.records < t.records / 2 && now() < deadline) await sleep(1);
      const saved = { ...sub.stats };
      await sub.terminate();
      const resumedAt = saved.nextOffset;
      const again = await BenchSocket.open(t.url, t.topic, 0);
      await again.subscribe({
        from: StartFrom.Offset,
        position: resumedAt,
        epoch: first.epoch,
        recordNoBase: 0,
        resume: saved,
      });
      await producing;
      while (again.stats.nextOffset < t.records && now() < deadline) await sleep(2);
      const s = again.stats;
      await Promise.all([producer.close(), again.close()]);
      const gaps = s.lost + Math.max(0, t.records - s.nextOffset);
      return {
        records: s.records,
        gaps,
        duplicates: s.duplicates,
        mismatched: s.mismatched,
        resumedAt,
      };
    },
  };
}

function jobFor(task: Task): Job {
  switch (task.role) {
    case "produce":
      return task.sdk ? sdkProduceJob(task) : produceJob(task);
    case "rate":
      return rateJob(task);
    case "subscribe":
      return task.sdk ? sdkSubscribeJob(task) : subscribeJob(task);
    case "idle":
      return idleJob(task);
    case "resume":
      return resumeJob(task);
  }
}

/**
 * How long this process's event loop was held up while timed, and by the garbage collector:
 * a record that arrives meanwhile waits, which is the client's share of a latency tail.
 */
function watchStalls(): () => {
  loopDelayMs: LoopDelay;
  gcMs: GcPauses;
  stalls: Array<[number, number]>;
} {
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const gc: GcPauses = { count: 0, total: 0, max: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.count++;
      gc.total += e.duration;
      gc.max = Math.max(gc.max, e.duration);
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  // When the longest stalls happened, ms after the start: a tick every 10 ms that came late.
  const start = performance.now();
  let last = start;
  const late: Array<[number, number]> = [];
  const tick = setInterval(() => {
    const t = performance.now();
    if (t - last > 50) late.push([Math.round(last - start), Math.round(t - last - 10)]);
    last = t;
  }, 10);
  return () => {
    clearInterval(tick);
    loop.disable();
    observer.disconnect();
    // The histogram is in ns and includes the 5 ms resolution itself.
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    return {
      loopDelayMs: {
        p50: ms(loop.percentile(50)),
        p99: ms(loop.percentile(99)),
        max: ms(loop.max),
      },
      gcMs: { count: gc.count, total: Math.round(gc.total), max: Math.round(gc.max * 10) / 10 },
      stalls: late.sort((a, b) => b[1] - a[1]).slice(0, 5),
    };
  };
}

const reply = (m: FromChild) => process.send?.(m);
let job: Job | null = null;

process.on("message", (m: ToChild) => {
  const fail = (error: unknown) => {
    reply({
      kind: "error",
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  };
  if (m.kind === "run") {
    job = jobFor(m.task);
    job.prepare().then(() => reply({ kind: "ready" }), fail);
  } else if (m.kind === "go" && job) {
    // CPU this process used for the timed part: per record, a figure the machine's noise moves
    // far less than a rate does.
    const cpu = process.cpuUsage();
    const stalls = watchStalls();
    job.go().then((result) => {
      const used = process.cpuUsage(cpu);
      reply({
        kind: "result",
        result: { ...(result as object), cpuMs: (used.user + used.system) / 1000, ...stalls() },
      });
    }, fail);
  }
});
process.on("disconnect", () => process.exit(0));
