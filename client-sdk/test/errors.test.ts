/** The SDK's errors keep the protocol's error table (PROTOCOL.md §8) without bundling it. */
import { ErrorCode, ErrorInfo, type ErrorName, errorName as protocolName } from "@kaiten/protocol";
import { expect, it } from "vitest";
import { ClientCode, errorName, KaitenClientError, RETRIABLE } from "../src/errors.ts";

it("calls retriable exactly the codes the protocol's table calls retriable, and a lost connection", () => {
  const names = Object.keys(ErrorCode) as ErrorName[];
  for (const code of names)
    expect(new KaitenClientError(code, "").retriable, code).toBe(ErrorInfo[code].retriable);
  expect(new KaitenClientError(ClientCode.Connection, "").retriable).toBe(true);
  expect(new KaitenClientError(ClientCode.Closed, "").retriable).toBe(false);
  expect([...RETRIABLE].filter((c) => !(c in ErrorCode))).toEqual([ClientCode.Connection]);
});

it("names every code as the protocol's table does, and no code the table lacks", () => {
  for (let code = -1; code <= 64; code++)
    expect(errorName(code), String(code)).toBe(protocolName(code));
});
