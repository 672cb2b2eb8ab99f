#!/usr/bin/env node
// First step of `npm test`: the browser and dashboard tests drive Debian's Chromium through
// Playwright (never a downloaded browser: this machine reaches only npm and Debian). Finds it
// at CHROMIUM_PATH or /usr/bin/chromium; when it is missing, installs Debian's `chromium` if
// running as root with apt-get (as CI does), and otherwise stops with one line saying how,
// before any test runs.
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";

const path = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

function runnable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function hasAptGet() {
  return spawnSync("sh", ["-c", "command -v apt-get"], { stdio: "ignore" }).status === 0;
}

function fail(message) {
  console.error(`npm test: ${message}`);
  process.exit(1);
}

if (runnable(path)) process.exit(0);
if (process.env.CHROMIUM_PATH) {
  fail(`CHROMIUM_PATH=${path} is not an executable file; point it at a Chromium or unset it.`);
}
const root = typeof process.getuid === "function" && process.getuid() === 0;
if (!root || !hasAptGet()) {
  fail(
    "Chromium is missing at /usr/bin/chromium. Install Debian's package with " +
      "`sudo apt-get install -y chromium` (or set CHROMIUM_PATH to a Chromium), then run npm test again.",
  );
}
console.log("npm test: Chromium is missing; installing Debian's chromium package (apt-get)…");
const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
for (const args of [
  ["update", "-qq"],
  ["install", "-y", "-qq", "chromium"],
]) {
  const r = spawnSync("apt-get", args, { stdio: ["ignore", "ignore", "inherit"], env });
  if (r.status !== 0) fail(`\`apt-get ${args.join(" ")}\` failed (exit ${r.status}).`);
}
if (!runnable(path)) fail(`apt-get installed chromium, but ${path} is still missing.`);
console.log(`npm test: installed ${path}`);
