/**
 * A test worker as a process, for the balancer benchmark: `test-worker-main.ts <id> [commitMs]`.
 * Filter-only, records nothing; prints `{"address": "127.0.0.1:port"}` once listening and stops
 * on SIGTERM.
 */
import { createTestWorker } from "./test-worker.js";

const [id = "worker", commitMs = "50"] = process.argv.slice(2);
const worker = createTestWorker({ id, record: false, filterOnly: true, commitIntervalMs: Number(commitMs) });
const address = await worker.start();
process.stdout.write(`${JSON.stringify({ address })}\n`);
process.on("SIGTERM", () => {
  worker.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
