// A CPU profile of the Node host process while the bench runs, for the host's own rows:
//   BENCH_HOST_PROFILE_DIR=prof NODE_OPTIONS="--require ./test/bench/host-profile.cjs" \
//     BENCH_TARGETS=node BENCH_WORKLOADS=w1 npm run bench
// NODE_OPTIONS reaches every Node process the bench starts; only the host (a process whose
// script is kaiten.mjs) profiles itself, from its start until the bench stops it (SIGTERM),
// and writes {dir}/host-{pid}.cpuprofile. Run one workload per session: the profile covers
// the whole life of the process, topic creation included (the self times of a workload's own
// part are found by the time its functions appear, e.g. `validateProducedBatch` for W1).
const script = process.argv[1] ?? "";
const dir = process.env.BENCH_HOST_PROFILE_DIR;
if (dir && script.endsWith("kaiten.mjs")) {
  const { Session } = require("node:inspector");
  const { mkdirSync, writeFileSync } = require("node:fs");
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 200 });
  session.post("Profiler.start");
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    // An in-process session answers synchronously, so this completes before the exit.
    session.post("Profiler.stop", (error, result) => {
      if (error) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(`${dir}/host-${process.pid}.cpuprofile`, JSON.stringify(result.profile));
    });
  };
  // Before the host's own handler, which exits once its server has stopped.
  for (const signal of ["SIGTERM", "SIGINT"]) process.prependListener(signal, write);
  process.on("exit", write);
}
