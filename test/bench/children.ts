/** Forks load generators and relays from the bench's build folder and talks to them over IPC. */
import { type ChildProcess, fork } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FromChild, Task, ToChild } from "./messages.ts";

/** The bundled .mjs files sit together; this module is bundled into one of them. */
const HERE = dirname(fileURLToPath(import.meta.url));
const children = new Set<ChildProcess>();

process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

/** Extra node flags for children, e.g. BENCH_CHILD_FLAGS="--cpu-prof --cpu-prof-dir=prof". */
function execArgv(): string[] {
  return (process.env.BENCH_CHILD_FLAGS ?? "").split(" ").filter(Boolean);
}

/** `env`: variables added to this process's own for the child. */
export function forkChild(file: string, env: Record<string, string> = {}): ChildProcess {
  const child = fork(join(HERE, file), [], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    execArgv: execArgv(),
    env: { ...process.env, ...env },
  });
  children.add(child);
  child.on("exit", () => children.delete(child));
  return child;
}

/** Resolves with the next message of a kind other than `error`; rejects on error or exit. */
function next(child: ChildProcess, kind: FromChild["kind"]): Promise<FromChild> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: FromChild) => {
      if (m.kind !== kind && m.kind !== "error") return;
      cleanup();
      if (m.kind === "error") reject(new Error(`load generator failed: ${m.message}`));
      else resolve(m);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`load generator exited (${code}) while the bench waited for "${kind}"`));
    };
    const cleanup = () => {
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    child.on("message", onMessage);
    child.on("exit", onExit);
  });
}

/** A load generator running one task: `ready` once prepared, then `go` for its result. */
export class LoadGen<R> {
  private constructor(
    private readonly child: ChildProcess,
    readonly pid: number,
  ) {}

  /** Forks a load generator and waits until it prepared `task`. */
  static async start<R>(task: Task): Promise<LoadGen<R>> {
    const child = forkChild("loadgen.mjs");
    const ready = next(child, "ready");
    child.send({ kind: "run", task } satisfies ToChild);
    await ready;
    return new LoadGen<R>(child, child.pid ?? 0);
  }

  /** Starts the timed part; resolves with the result, after which the process exits. */
  async go(): Promise<R> {
    const result = next(this.child, "result");
    this.child.send({ kind: "go" } satisfies ToChild);
    const m = await result;
    this.child.disconnect();
    return (m as { result: R }).result;
  }
}

/** Starts every task, waits until all are ready, starts them together, returns the results. */
export async function runTogether<R>(tasks: Task[]): Promise<R[]> {
  const gens = await Promise.all(tasks.map((t) => LoadGen.start<R>(t)));
  return Promise.all(gens.map((g) => g.go()));
}
