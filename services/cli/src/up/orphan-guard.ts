/**
 * Preloaded (`node --import`) into every worker and balancer process `espmesh up` starts, so none
 * outlives it, even when `up` is killed with SIGKILL and cannot stop them itself.
 *
 * `ESPMESH_PARENT_PID` names the process that must stay its parent. Four times a second the
 * guard compares it with `process.ppid`; once the parent is gone (the child was re-parented to
 * init or a subreaper), the child sends itself SIGTERM, which its entry point answers with its
 * usual drain, and exits with code 1 if that drain has not ended the process after
 * {@link DRAIN_LIMIT_MS}. The timers are unref'd: the guard never keeps a process alive.
 */

/** How often the parent is checked, in milliseconds. */
export const CHECK_INTERVAL_MS = 250;
/** How long a drain after the parent's death may take before the child exits anyway. */
export const DRAIN_LIMIT_MS = 5000;

/** Starts watching the parent named by `parentPid`; returns a function that stops watching. */
export function guardParent(parentPid: number): () => void {
  const timer = setInterval(() => {
    if (process.ppid === parentPid) return;
    clearInterval(timer);
    process.stderr.write(`espmesh: parent process ${parentPid} is gone; stopping\n`);
    setTimeout(() => process.exit(1), DRAIN_LIMIT_MS).unref();
    process.kill(process.pid, "SIGTERM");
  }, CHECK_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

const parent = Number(process.env.ESPMESH_PARENT_PID);
if (Number.isSafeInteger(parent) && parent > 0) guardParent(parent);
