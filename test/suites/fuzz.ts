/**
 * Fuzz (docs/PROTOCOL.md §5, §5.5, §8, §11): random and mutated WebSocket frames and HTTP
 * bodies against a live broker. Every frame that is not a valid request must get exactly one
 * ERROR frame and leave its socket open; every HTTP request an answer below 500 (an error
 * body for 4xx); the broker must not crash; a subscriber of the fuzzed partition must keep
 * receiving; and the stored log must hold exactly the valid records, unchanged.
 *
 * Frames that would be valid requests (a valid batch, a subscription that would start, an AUTH,
 * which a broker with auth off accepts whatever its token) are not sent: they would change
 * what is stored, and are the other suites' business.
 * Sizes: KAITEN_FUZZ_FRAMES, KAITEN_FUZZ_BODIES; KAITEN_FUZZ_SEED replays a run.
 */
import {
  decodeFrame,
  encodeBatch,
  encodeFrame,
  FrameType,
  KaitenError,
  Limits,
  PING,
  StartFrom,
  SUBPROTOCOL,
  ValueFormat,
  validateProducedBatch,
  type WireRecord,
} from "@kaiten/protocol";
import { beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { useBroker } from "../lib/broker.ts";
import { seededRandom } from "../lib/chaos-proxy.ts";
import { Connection, jsonRecord, jsonValue, type Subscription, socketUrl } from "../lib/client.ts";
import { readPartition } from "../lib/http.ts";
import { size } from "../reliability/sizes.ts";
import { brokerOf, type HostUnderTest } from "./hosts.ts";

export function fuzzSuite(host: HostUnderTest): void {
  describe(`fuzz on ${host.name}`, () => {
    const broker = useBroker(brokerOf(host));
    const TOPIC = "fuzz";
    const HTTP_TOPIC = "fuzz-http";
    const FRAMES = size("KAITEN_FUZZ_FRAMES", 10_000, 100_000);
    const BODIES = size("KAITEN_FUZZ_BODIES", 2_000, 20_000);
    const SEED = size("KAITEN_FUZZ_SEED", Date.now() % 1_000_000, Date.now() % 1_000_000);
    const SOCKETS = 4;
    /** Frames sent and not yet answered, per socket. */
    const WINDOW = 200;
    const HTTP_PARALLEL = 8;
    const STORED_BEFORE = 100;

    const random = seededRandom(SEED);
    const int = (n: number) => Math.floor(random() * n);
    const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const range = (n: number) => Array.from({ length: n }, (_, i) => i);
    const utf8 = new TextEncoder();

    function randomBytes(n: number): Uint8Array<ArrayBuffer> {
      return Uint8Array.from({ length: n }, () => int(256));
    }

    function randomRecord(): WireRecord {
      const headers: Array<[string, string]> = range(int(3)).map((i) => [`h${i}`, `v${int(100)}`]);
      return {
        key: random() < 0.5 ? utf8.encode(`k${int(50)}`) : null,
        value:
          random() < 0.5 ? randomBytes(int(40)) : utf8.encode(JSON.stringify({ n: int(1000) })),
        format: random() < 0.5 ? ValueFormat.Bytes : ValueFormat.Json,
        headers,
        timestamp: 1_700_000_000_000 + int(1_000_000),
      };
    }

    /** A valid client frame, to be mutated. */
    function validFrame(): Uint8Array {
      const requestId = 1 + int(1_000_000);
      switch (int(4)) {
        case 0:
          return encodeFrame({
            type: FrameType.Produce,
            requestId,
            producerId: random() < 0.5 ? "" : `fuzz-${int(10)}`,
            producerEpoch: int(3),
            sequence: int(5),
            batch: encodeBatch(range(1 + int(4)).map(randomRecord)),
          });
        case 1:
          return encodeFrame({
            type: FrameType.Subscribe,
            requestId,
            from: int(4) as StartFrom,
            position: int(1000),
            epoch: int(3),
            credit: int(1_000_000),
            key: random() < 0.5 ? null : utf8.encode("k1"),
          });
        case 2:
          return encodeFrame({ type: FrameType.Credit, credit: int(1_000_000) });
        default:
          return encodeFrame({ type: FrameType.Unsubscribe, requestId });
      }
    }

    const BOUNDARY = [0x00, 0x01, 0x7f, 0x80, 0xff];

    function mutate(bytes: Uint8Array): Uint8Array {
      const b = Array.from(bytes);
      for (let m = 1 + int(3); m > 0; m--) {
        const at = int(b.length + 1);
        switch (int(6)) {
          case 0:
            if (b.length > 0) b[at % b.length] = int(256);
            break;
          case 1:
            if (b.length > 0) b[at % b.length] = pick(BOUNDARY);
            break;
          case 2:
            b.length = Math.min(b.length, at);
            break;
          case 3:
            b.splice(at, 0, ...randomBytes(1 + int(8)));
            break;
          case 4:
            b.splice(at, 1 + int(8));
            break;
          default:
            b.push(...b.slice(at, at + 1 + int(16)));
        }
      }
      return Uint8Array.from(b);
    }

    /** A random or mutated message: bytes, or text (never "ping"). */
    function fuzzMessage(n: number): Uint8Array | string {
      if (n % 5_000 === 4_999) {
        // Over the frame limit (§7).
        const big = new Uint8Array(Limits.maxFrameBytes + 1 + int(1000));
        big[0] = FrameType.Produce;
        return big;
      }
      const r = random();
      if (r < 0.05) {
        const text = String.fromCharCode(...range(int(30)).map(() => 32 + int(90)));
        return text === PING ? "pong" : text;
      }
      if (r < 0.3) {
        const bytes = randomBytes(int(64));
        if (bytes.length > 0 && random() < 0.7)
          bytes[0] = pick([1, 2, 3, 4, 0x81, 0x83, 0x84, 0x85]);
        return bytes;
      }
      return mutate(validFrame());
    }

    /** Would the broker accept this as a request (and so store or subscribe)? */
    function wouldSucceed(message: Uint8Array | string, epoch: number): boolean {
      if (typeof message === "string") return false;
      let frame: ReturnType<typeof decodeFrame>;
      try {
        frame = decodeFrame(message);
      } catch (error) {
        if (error instanceof KaitenError) return false;
        throw error;
      }
      if (frame.type === FrameType.Produce) {
        try {
          validateProducedBatch(frame.batch, Limits.maxRecordBytes);
          return true;
        } catch {
          return false;
        }
      }
      if (frame.type === FrameType.Subscribe) return frame.epoch === 0 || frame.epoch === epoch;
      // A mutation can turn a frame into a decodable AUTH: with auth off (these brokers) any
      // token is accepted and answered with AUTHED, not ERROR (§15.4).
      if (frame.type === FrameType.Auth) return true;
      return false;
    }

    /** A raw socket that counts the ERROR frames it gets, and anything else it should not get. */
    class FuzzSocket {
      errors = 0;
      unexpected: string[] = [];
      closedWith: number | null = null;

      private constructor(private readonly ws: WebSocket) {
        ws.on("message", (data, isBinary) => {
          if (!isBinary) {
            this.unexpected.push(`text ${data.toString().slice(0, 40)}`);
            return;
          }
          try {
            const f = decodeFrame(new Uint8Array(data as Buffer));
            if (f.type === FrameType.Error) this.errors++;
            else this.unexpected.push(`frame type ${f.type}`);
          } catch (error) {
            this.unexpected.push(`undecodable answer: ${error}`);
          }
        });
        ws.on("close", (code) => {
          this.closedWith = code;
        });
      }

      static open(url: string): Promise<FuzzSocket> {
        const ws = new WebSocket(url, SUBPROTOCOL, { perMessageDeflate: false });
        return new Promise((resolve, reject) => {
          ws.once("open", () => resolve(new FuzzSocket(ws)));
          ws.once("error", reject);
        });
      }

      send(message: Uint8Array | string): void {
        this.ws.send(message);
      }

      close(): void {
        this.ws.close(1000);
      }
    }

    async function fuzzSocket(url: string, frames: Array<Uint8Array | string>) {
      const s = await FuzzSocket.open(url);
      for (const [i, frame] of frames.entries()) {
        while (i - s.errors >= WINDOW && s.closedWith === null) await sleep(1);
        if (s.closedWith !== null) break;
        s.send(frame);
      }
      const deadline = Date.now() + 30_000;
      while (s.errors < frames.length && s.closedWith === null && Date.now() < deadline)
        await sleep(5);
      const result = {
        sent: frames.length,
        errors: s.errors,
        unexpected: s.unexpected,
        closed: s.closedWith,
      };
      s.close();
      return result;
    }

    /** An HTTP request built from a valid one, mutated, or random. */
    function fuzzRequest(base: string): { url: string; init: RequestInit } {
      const valid = JSON.stringify({
        records: range(1 + int(3)).map(() =>
          random() < 0.5
            ? { key: `k${int(9)}`, value: { n: int(100) }, headers: { h: "v" } }
            : { valueBase64: "AAEC", timestamp: int(1e12) },
        ),
        ...(random() < 0.3 ? { producerId: "fz", producerEpoch: int(2), sequence: int(9) } : {}),
      });
      const text = () => {
        const s = [...valid];
        for (let m = 1 + int(4); m > 0; m--) {
          const at = int(s.length + 1);
          if (random() < 0.5) s.splice(at, 1);
          else
            s.splice(
              at,
              0,
              pick(['"', "{", "}", "[", "]", ",", ":", "-", "1", "e", "\\", "\u0000", "é", "null"]),
            );
        }
        return s.join("");
      };
      const contentType = pick(["application/json", "text/plain", "application/octet-stream", ""]);
      const headers = contentType ? { "content-type": contentType } : undefined;
      switch (int(5)) {
        case 0:
          return {
            url: `${base}/v1/topics/${HTTP_TOPIC}/records`,
            init: { method: "POST", headers, body: randomBytes(int(200)) },
          };
        case 1:
        case 2:
          return {
            url: `${base}/v1/topics/${HTTP_TOPIC}/records`,
            init: { method: "POST", headers, body: text() },
          };
        case 3: {
          const q = pick(["offset", "limit", "timestamp", "x"]);
          const v = pick(["-1", "0", "1e3", "NaN", "", "9007199254740993", "%ff", "10001", "abc"]);
          return {
            url: `${base}/v1/topics/${HTTP_TOPIC}/partitions/${pick(["0", "1", "-1", "x", "999"])}/records?${q}=${v}`,
            init: {},
          };
        }
        default:
          return {
            url: `${base}/v1/topics`,
            init: { method: "POST", headers, body: randomBytes(int(100)) },
          };
      }
    }

    interface HttpOutcome {
      requests: number;
      byStatus: Record<number, number>;
      badBodies: string[];
      /** Each 5xx answer: the request and the response, to reproduce it. */
      serverErrors: string[];
      /** Requests wrangler dev's proxy refused because the runtime was reloaded meanwhile. */
      devReloads: number;
    }

    /**
     * wrangler dev's proxy answers this when the runtime behind it was reloaded (a watched file
     * changed) while a POST was on its way: the request never reached the broker. It is a local
     * development artifact, not an answer of the broker, so the request is sent again.
     */
    const DEV_RELOAD = "Your worker restarted mid-request";

    async function fuzzHttp(base: string, count: number): Promise<HttpOutcome> {
      const outcome: HttpOutcome = {
        requests: 0,
        byStatus: {},
        badBodies: [],
        serverErrors: [],
        devReloads: 0,
      };
      const requests = range(count).map(() => fuzzRequest(base));
      let next = 0;
      const worker = async () => {
        while (next < requests.length) {
          const { url, init } = requests[next++] as { url: string; init: RequestInit };
          let res: Response;
          let body: string;
          for (let attempt = 1; ; attempt++) {
            res = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
            body = await res.text();
            if (res.status !== 503 || !body.startsWith(DEV_RELOAD) || attempt === 3) break;
            outcome.devReloads++;
          }
          outcome.requests++;
          outcome.byStatus[res.status] = (outcome.byStatus[res.status] ?? 0) + 1;
          if (res.status >= 500) {
            const sent = typeof init.body === "string" ? init.body : `${init.body ?? ""}`;
            outcome.serverErrors.push(
              `${init.method ?? "GET"} ${url} ${sent.slice(0, 120)} -> ${res.status} ${body.slice(0, 200)}`,
            );
          }
          if (res.status >= 400) {
            try {
              const e = JSON.parse(body)?.error;
              if (typeof e?.code !== "string") throw new Error("no error code");
            } catch {
              outcome.badBodies.push(`${res.status} ${body.slice(0, 80)}`);
            }
          }
        }
      };
      await Promise.all(range(HTTP_PARALLEL).map(worker));
      return outcome;
    }

    let before: unknown[];
    let watcher: Subscription;
    let producedDuring = 0;
    let socketResults: Awaited<ReturnType<typeof fuzzSocket>>[];
    let http: HttpOutcome;
    let skipped = 0;

    beforeAll(async () => {
      const url = broker().url;
      const producer = await Connection.open(url, TOPIC, 0);
      await producer.produce(range(STORED_BEFORE).map((i) => jsonRecord({ before: i })));
      before = (await readPartition(url, TOPIC, 0)).records;
      const watching = await Connection.open(url, TOPIC, 0);
      watcher = await watching.subscribe({ from: StartFrom.Earliest });
      const epoch = watcher.subscribed.epoch;

      const messages: Array<Uint8Array | string> = [];
      for (let n = 0; messages.length < FRAMES; n++) {
        const m = fuzzMessage(n);
        if (wouldSucceed(m, epoch)) skipped++;
        else messages.push(m);
      }
      let producing = true;
      const valid = (async () => {
        while (producing) {
          await producer.produce([jsonRecord({ during: producedDuring })]);
          producedDuring++;
          await sleep(20);
        }
      })();
      const per = Math.ceil(FRAMES / SOCKETS);
      const ws = socketUrl(url, TOPIC, 0);
      [socketResults, http] = await Promise.all([
        Promise.all(
          range(SOCKETS).map((i) => fuzzSocket(ws, messages.slice(i * per, (i + 1) * per))),
        ),
        fuzzHttp(url, BODIES),
      ]);
      producing = false;
      await valid;
      await watcher.waitForOffset(STORED_BEFORE + producedDuring);
      console.log(
        `fuzz (seed ${SEED}): ${FRAMES} frames sent (${skipped} valid ones left out), ` +
          `${socketResults.reduce((n, r) => n + r.errors, 0)} ERROR frames back; ` +
          `${http.requests} HTTP requests by status ${JSON.stringify(http.byStatus)} ` +
          `(${http.devReloads} sent again after a reload of wrangler dev); ` +
          `${producedDuring} valid records produced meanwhile`,
      );
    });

    describe(`${FRAMES} random and mutated frames and ${BODIES} HTTP requests`, () => {
      it("answers every bad frame with one ERROR frame and keeps each socket open (§5.5)", () => {
        for (const r of socketResults) {
          expect(r.unexpected).toEqual([]);
          expect(r.closed).toBeNull();
          expect(r.errors).toBe(r.sent);
        }
      });

      it("answers every HTTP request below 500, with an error body for each 4xx (§11.6)", () => {
        expect(http.requests).toBe(BODIES);
        expect(http.serverErrors).toEqual([]);
        expect(http.badBodies).toEqual([]);
      });

      it("is still up and serving", async () => {
        expect(broker().running).toBe(true);
        expect((await fetch(`${broker().url}/v1/topics`)).status).toBe(200);
      });

      it("kept delivering to the partition's subscriber, every record once and in order", () => {
        expect(watcher.error).toBeNull();
        expect(watcher.offsets()).toEqual(range(STORED_BEFORE + producedDuring));
      });

      it("stored only the valid records and changed nothing stored before", async () => {
        const { records } = await readPartition(broker().url, TOPIC, 0);
        expect(records.slice(0, STORED_BEFORE)).toEqual(before);
        expect(records.slice(STORED_BEFORE).map((r) => r.value)).toEqual(
          range(producedDuring).map((during) => ({ during })),
        );
        expect(watcher.records.map((r) => jsonValue(r))).toEqual(records.map((r) => r.value));
      });
    });
  });
}
