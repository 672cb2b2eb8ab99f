/**
 * With `KAITEN_AUTO_CREATE_TOPICS = "false"` (a wrangler.toml var), producing to or
 * connecting to an unknown topic is refused with UNKNOWN_TOPIC instead of creating it
 * (docs/PROTOCOL.md §8, §11); topics created explicitly work as usual.
 */
import { describe, expect, it } from "vitest";
import { useBroker } from "../lib/broker.ts";
import { Connection } from "../lib/client.ts";
import { call, type ErrorBody, postJson } from "../lib/http.ts";
import { brokerOf, type HostUnderTest } from "./hosts.ts";

export function autoCreateOffSuite(host: HostUnderTest): void {
  describe(`auto-create off on ${host.name}`, () => {
    const broker = useBroker(brokerOf(host, { KAITEN_AUTO_CREATE_TOPICS: "false" }));

    describe("with auto-create turned off", () => {
      it("refuses to produce to an unknown topic and does not create it", async () => {
        const url = broker().url;
        const r = await postJson<ErrorBody>(`${url}/v1/topics/nowhere/records`, {
          records: [{ value: 1 }],
        });
        expect(r.status).toBe(404);
        expect(r.body.error.code).toBe("UNKNOWN_TOPIC");
        const list = await call<{ topics: Array<{ name: string }> }>(`${url}/v1/topics`);
        expect(list.body.topics.map((t) => t.name)).not.toContain("nowhere");
      });

      it("refuses a metadata lookup with create=true for an unknown topic", async () => {
        const r = await call<ErrorBody>(`${broker().url}/v1/topics/still-nowhere?create=true`);
        expect(r.status).toBe(404);
        expect(r.body.error.code).toBe("UNKNOWN_TOPIC");
      });

      it("closes a socket to an unknown topic with 4007 after an UNKNOWN_TOPIC error", async () => {
        const connection = await Connection.open(broker().url, "ghost", 0);
        const { code } = await connection.closed;
        expect(code).toBe(4000 + 7);
        expect(connection.unsolicitedErrors.map((e) => e.code)).toEqual(["UNKNOWN_TOPIC"]);
      });

      it("serves a topic created explicitly", async () => {
        const url = broker().url;
        const created = await postJson(`${url}/v1/topics`, { name: "made", partitions: 2 });
        expect(created.status).toBe(201);
        const r = await postJson<{ offsets: unknown[] }>(`${url}/v1/topics/made/records`, {
          records: [{ key: "k", value: 1 }],
        });
        expect(r.status).toBe(200);
        expect(r.body.offsets).toHaveLength(1);
      });
    });
  });
}
