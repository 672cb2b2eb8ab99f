/**
 * Loads the checked-in golden fixtures. Byte fields are written in the JSON as
 * {"utf8": text} or {"hex": bytes} so the files stay readable; they are revived into
 * Uint8Arrays here. The "layout" column documents each fixture field by field, and the
 * "hex" is that column concatenated (the tests check that too, so the two cannot drift).
 */
import { readFileSync } from "node:fs";
import type { Frame, WireRecord } from "../../src/index.ts";

export type LayoutRow = [hex: string, meaning: string];

export interface FrameFixture {
  name: string;
  spec: string;
  description: string;
  frame: Frame;
  layout: LayoutRow[];
  hex: string;
}

export interface BatchFixture {
  name: string;
  spec: string;
  description: string;
  batches: Array<{ baseOffset: number; records: WireRecord[] }>;
  layout: LayoutRow[];
  hex: string;
}

export function hexToBytes(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, "");
  if (!/^(?:[0-9a-f]{2})*$/.test(clean)) throw new Error(`not hex: ${hex}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function bytesToHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const utf8 = new TextEncoder();

/** JSON.parse reviver: {"hex": ...} and {"utf8": ...} objects become byte arrays. */
function revive(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === "hex") return hexToBytes((value as { hex: string }).hex);
    if (keys.length === 1 && keys[0] === "utf8")
      return utf8.encode((value as { utf8: string }).utf8);
  }
  return value;
}

function load<T>(file: string): T[] {
  const text = readFileSync(new URL(`../fixtures/${file}`, import.meta.url), "utf8");
  const all = JSON.parse(text, revive) as Record<string, Omit<T, "name">>;
  return Object.entries(all)
    .filter(([name]) => !name.startsWith("$"))
    .map(([name, fixture]) => ({ name, ...fixture }) as T);
}

export const frameFixtures: FrameFixture[] = load<FrameFixture>("frames.golden.json");
export const batchFixtures: BatchFixture[] = load<BatchFixture>("batches.golden.json");

export function layoutHex(layout: readonly LayoutRow[]): string {
  return layout.map(([hex]) => hex.replace(/\s+/g, "")).join("");
}
