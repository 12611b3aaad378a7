/**
 * A store process the test controls: records a burst of turns in one tick, says how many were
 * acknowledged, then blocks its thread so no timer can write anything more before `kill -9`.
 */
import { writeSync } from "node:fs";
import { openStateStore } from "../../src/store/sqlite-store.js";

const [stateDir, countText] = process.argv.slice(2);
const count = Number(countText);
const store = openStateStore(stateDir as string);
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
    at: i,
  });
}
writeSync(1, `acknowledged ${count}\n`);
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
