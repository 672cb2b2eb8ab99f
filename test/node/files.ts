/**
 * What the in-process tests of the Node host's pieces share: folders of their own, removed
 * after the file's tests, and batches of small records.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeBatch, ValueFormat } from "@kaiten/protocol";
import { afterAll } from "vitest";

/** A `tempDir()` that makes a new folder under the system's, each removed after the file. */
export function tempDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
}

const utf8 = new TextEncoder();

/** One batch of `n` records, values "v0", "v1", …, all with the given timestamp. */
export function batchOf(n: number, timestamp = Date.now()): Uint8Array {
  return encodeBatch(
    Array.from({ length: n }, (_, i) => ({
      key: null,
      value: utf8.encode(`v${i}`),
      format: ValueFormat.Bytes,
      headers: [],
      timestamp,
    })),
  );
}
