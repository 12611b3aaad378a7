/**
 * A gateway store process the test controls: records a burst of turns in one tick, waits until the
 * writer thread has written everything it was handed, says how many were acknowledged, then blocks
 * its main thread so no timer can hand over anything more before `kill -9`.
 */
import { writeSync } from "node:fs";
import { WorkerStore } from "../../src/store/worker-store.js";

const [stateDir, countText] = process.argv.slice(2);
const count = Number(countText);
// No time-based hand-over within the test: only the count bound can move records to the writer.
const store = await WorkerStore.open(stateDir as string, { flushDelayMs: 3_600_000 });
// Recent: the writer's first retention pass must not take them.
const now = Date.now();
for (let i = 0; i < count; i++) {
  store.recordTurn({
    sessionKey: `burst-${i % 7}`,
    agentId: "main",
    model: "chutes/x",
    endpoint: "chat.completions",
    input: [{ role: "user", content: `prompt ${i}` }],
    output: { role: "assistant", content: `answer ${i}` },
    usage: null,
    cost: null,
    status: "ok",
    at: now + i,
  });
}
await store.writerIdle();
writeSync(1, `acknowledged ${count}\n`);
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
