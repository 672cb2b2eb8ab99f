#!/usr/bin/env node
// Builds dist/: one minified ESM bundle per entry (the protocol codec is bundled in, so the
// package has no runtime dependency), and declarations for TypeScript users.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");

export const ENTRIES = {
  index: "src/index.ts",
  track: "src/track.ts",
  workers: "src/workers.ts",
  group: "src/group.ts",
};

/**
 * Property names that never cross the package boundary: fields of protocol frames and
 * limits (the codec is bundled, so both sides of every use are renamed together) and of
 * the SDK's internal objects. Renaming them keeps the entry under its size budget. A name
 * here must not be a public option, a field of JSON from the broker, or a built-in's
 * (push, entries, call, round, resolve, Error...): those would break silently, which the browser
 * and dist tests would catch.
 */
const INTERNAL_PROPS = new RegExp(
  `^(${[
    // frames (§5) and batches (§4)
    "requestId|producerEpoch|sequence|batches|baseOffset|baseTimestamp|startOffset|earliestOffset",
    "highWatermark|nextOffset|recordsLength|credit|position",
    // FrameType, StartFrom, ValueFormat, Limits keys (except maxRecordBytes: a JSON field)
    "Produce|Subscribe|Unsubscribe|ProduceAck|Subscribed|Records|Unsubscribed|Credit",
    "Earliest|Latest|Offset|Timestamp|Json|Bytes",
    "maxFrameBytes|maxBatchRecords|maxKeyBytes|maxHeaders|maxProducerIdBytes",
    "maxErrorMessageBytes|maxCreditBytes|maxChunkBytes|maxPartitions|maxTopicNameLength",
    // protocol Reader and Writer
    "varint|svarint|lenBytes|patchU32|remaining|ensure",
    // the SDK's own objects
    "users|isOpen|opened|dropped|frame|took|reader|record|sealed|settled|dead|failAll|idle",
    "acks|left|subscribed|fail|forget|release|link|wake|connect|nextRequestId|backoff|topicInfo",
    "stop|seal|gap|reset|turn|index|type|format|batch|duplicate|finish|http|tokens|renews|due",
    "lost|bearer|refresh|watch",
    // the SDK's receive path (records.ts) and batches in flight (batcher.ts)
    "records|spent|attrs|keyAt|keyLength|valueAt|valueLength|headersAt|moved|calls|indexes|added",
  ].join("|")})$`,
);

rmSync(dist, { recursive: true, force: true });
const common = {
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  minify: true,
  // Maps next to the bundles, without a comment in them (the comment would count against the budget).
  sourcemap: "external",
  legalComments: "none",
  logLevel: "warning",
};
/**
 * Files of their own, loaded by the main entry's dynamic `import("./x.ts")` only when a client
 * needs them, so the import stays an import of x.js: the HTTP transport (src/sse.ts), token
 * refresh (src/renew.ts, for a token function), and the key partitioner (src/keys.ts).
 */
const LAZY = ["sse", "renew", "keys"];
const lazy = {
  name: "lazy",
  setup(b) {
    b.onResolve({ filter: /^\.\/(sse|renew|keys)\.ts$/ }, (a) => ({
      path: a.path.replace(/ts$/, "js"),
      external: true,
    }));
  },
};
const main = await build({
  ...common,
  entryPoints: [join(root, ENTRIES.index)],
  outfile: join(dist, "index.js"),
  mangleProps: INTERNAL_PROPS,
  mangleCache: {},
  plugins: [lazy],
});
// The same renaming as the main entry (the cache it left), since both sides use the same objects.
for (const name of LAZY)
  await build({
    ...common,
    entryPoints: [join(root, `src/${name}.ts`)],
    outfile: join(dist, `${name}.js`),
    mangleProps: INTERNAL_PROPS,
    mangleCache: main.mangleCache,
    plugins: [lazy],
  });
// The tracker builds JSON request bodies whose field names must stay as they are: no renaming there.
await build({
  ...common,
  entryPoints: [join(root, ENTRIES.track)],
  outfile: join(dist, "track.js"),
});
// Workers helpers: a separate entry, so browsers never load them; no renaming (public names).
await build({
  ...common,
  entryPoints: [join(root, ENTRIES.workers)],
  outfile: join(dist, "workers.js"),
});
// Consumer groups: a separate entry over the client's public API; no renaming (it calls the
// client's public names, which the main entry keeps).
await build({
  ...common,
  entryPoints: [join(root, ENTRIES.group)],
  outfile: join(dist, "group.js"),
});

// Declarations for the SDK and the protocol types it exposes; the protocol is bundled, so
// its import specifier is rewritten to the emitted copy.
const tsc = join(root, "../node_modules/.bin/tsc");
execFileSync(tsc, ["-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
const types = join(dist, "types");
for (const file of walk(join(types, "client-sdk/src"))) {
  const text = readFileSync(file, "utf8");
  const fixed = text
    .replaceAll('"@kaiten/protocol"', '"../../protocol/src/index.js"')
    .replace(/from "(\.\.?\/[^"]+)\.ts"/g, 'from "$1.js"');
  if (fixed !== text) writeFileSync(file, fixed);
}
for (const file of walk(join(types, "protocol/src"))) {
  const text = readFileSync(file, "utf8");
  const fixed = text.replace(/from "(\.\.?\/[^"]+)\.ts"/g, 'from "$1.js"');
  if (fixed !== text) writeFileSync(file, fixed);
}

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else if (path.endsWith(".d.ts")) yield path;
  }
}
