// `npm start`: the whole mesh on this machine with the trades demo, i.e. `espmesh up --demo`
// through the CLI's bin (extra arguments pass through: `npm start -- --port 9000`). The bin runs
// in this process, so Ctrl-C reaches `up` itself, and `up` stops every process it started.
import { fileURLToPath } from "node:url";

// npm does not pass SIGTERM on to this process: when the npm process that ran it goes away (it is
// then re-parented), stop as if sent SIGTERM.
const parent = process.ppid;
const watch = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(watch);
  process.kill(process.pid, "SIGTERM");
}, 250);
watch.unref();

const bin = new URL("../services/cli/bin/espmesh.mjs", import.meta.url);
process.argv = [process.argv[0] ?? process.execPath, fileURLToPath(bin), "up", "--demo", ...process.argv.slice(2)];
await import(bin.href);
