import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { ChunkStream } from "../src/providers/openai-compatible/chunk-stream.js";
import type { ExchangeControl } from "../src/providers/openai-compatible/exchange.js";
import { test } from "./helpers/test.js";

// A finished stream must be garbage as soon as its consumer is done with it: under streamed load
// anything that keeps finished streams alive for a while (a timer, a registry) multiplies by the
// stream rate (a 2 s timer per stream kept 119 MB of finished streams live in the bench).

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const event = (content: string, finish: string | null) =>
  `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`;

async function finishedStream(aborts: { count: number }): Promise<WeakRef<ChunkStream>> {
  const control: ExchangeControl = { pause: () => undefined, resume: () => undefined, abort: () => void aborts.count++ };
  const stream = new ChunkStream({
    control,
    providerId: "fake",
    parse: (data) => (data === "[DONE]" ? "done" : JSON.parse(data)),
    mapError: (error) => error as Error,
  });
  // One network read with the last token, [DONE], then the end of the body: the usual ending.
  stream.push(Buffer.from(`${event("hi", null)}${event("", "stop")}data: [DONE]\n\n`));
  stream.end();
  let chunks = 0;
  for await (const _chunk of stream) chunks++;
  assert.equal(chunks, 2);
  return new WeakRef(stream);
}

test("a stream whose body ended after [DONE] is released at once, not held by its grace timer", async () => {
  const aborts = { count: 0 };
  const refs: Array<WeakRef<ChunkStream>> = [];
  for (let i = 0; i < 50; i++) refs.push(await finishedStream(aborts));
  // A WeakRef's target survives the job that made it: a few turns of the loop, each with a full GC.
  let alive = refs.length;
  for (let turn = 0; turn < 20 && alive > 0; turn++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    alive = refs.filter((ref) => ref.deref() !== undefined).length;
  }
  assert.equal(alive, 0, `${alive} of ${refs.length} finished streams are still reachable`);
  assert.equal(aborts.count, 0, "a body that ended by itself is never aborted");
});
