/**
 * Process memory from /proc (Linux), to check that a broker's memory stays bounded. The
 * broker of test/lib/broker.ts is wrangler dev in its own process group; the process that
 * holds the partitions, their sockets and their queues is the workerd it starts.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** Resident set size of a process, in bytes (VmRSS of /proc/{pid}/status). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  if (kib === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kib) * 1024;
}

/** Process ids whose process group is `pgid` and whose name is `name`. */
export function processesInGroup(pgid: number, name: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // The process ended meanwhile.
    }
    // pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const pgrp = Number(stat.slice(close + 2).split(" ")[2]);
    if (pgrp === pgid && comm === name) found.push(Number(entry));
  }
  return found;
}

/**
 * The workerd processes of a broker started by test/lib/broker.ts (its process group).
 * wrangler dev runs two: a proxy that owns the public port and forwards every request and
 * WebSocket message, and the runtime that runs the Worker and the Durable Objects.
 */
export function workerdPids(
  processGroup: number,
  publicPort: number,
): { proxy: number; runtime: number } {
  const pids = processesInGroup(processGroup, "workerd");
  const isProxy = (pid: number) =>
    commandLine(pid).some((a) => a.endsWith(`=127.0.0.1:${publicPort}`));
  const proxy = pids.filter(isProxy);
  const runtime = pids.filter((pid) => !isProxy(pid));
  if (proxy.length !== 1 || runtime.length !== 1) {
    throw new Error(`expected a proxy and a runtime workerd in group ${processGroup}: ${pids}`);
  }
  return { proxy: proxy[0] as number, runtime: runtime[0] as number };
}

/** The command line of a process, split into its arguments. */
export function commandLine(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
}

/** TCP ports a process listens on (IPv4), from its socket inodes and /proc/net/tcp. */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode) inodes.add(inode);
    } catch {
      // Closed meanwhile.
    }
  }
  const ports: number[] = [];
  for (const line of readFileSync(`/proc/${pid}/net/tcp`, "utf8").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    // local_address is HEX_IP:HEX_PORT; state 0A is LISTEN; field 9 is the inode.
    if (f[3] === "0A" && inodes.has(f[9] ?? ""))
      ports.push(Number.parseInt(f[1]?.split(":")[1] ?? "", 16));
  }
  return ports;
}

/** CPU time a process has used so far (user + system), in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of stat (utime, stime) are the 12th and 13th after the command name.
  return (Number(f[11]) + Number(f[12])) / 100;
}
