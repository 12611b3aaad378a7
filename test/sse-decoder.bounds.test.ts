import assert from "node:assert/strict";
import { SseDecoder, SseEventTooLargeError } from "../src/providers/openai-compatible/sse-decoder.js";
import { test } from "./helpers/test.js";

test("a leading UTF-8 byte-order mark does not swallow the first event, even split across reads", () => {
  const decoder = new SseDecoder();
  const bom = Buffer.from([0xef, 0xbb, 0xbf]);
  const events = [...decoder.push(bom.subarray(0, 2)), ...decoder.push(Buffer.concat([bom.subarray(2), Buffer.from('data: {"a":1}\n\n')]))];
  assert.deepEqual(
    events.map((event) => event.data),
    ['{"a":1}'],
  );
});

test("only a leading byte-order mark is dropped: one later in the stream is data", () => {
  const decoder = new SseDecoder();
  const events = [...decoder.push("data: one\n\n"), ...decoder.push("data: \uFEFFtwo\n\n")];
  assert.deepEqual(
    events.map((event) => event.data),
    ["one", "\uFEFFtwo"],
  );
});

test("a line without a newline is refused past the cap, however it is split", () => {
  const decoder = new SseDecoder(1000);
  decoder.push(`data: ${"a".repeat(500)}`);
  assert.throws(() => decoder.push("a".repeat(600)), SseEventTooLargeError);
});

test("an event of many short data lines is refused past the cap", () => {
  const decoder = new SseDecoder(1000);
  assert.throws(() => {
    for (let i = 0; i < 100; i++) decoder.push(`data: ${"b".repeat(50)}\n`);
  }, SseEventTooLargeError);
});

test("events just under the cap, in many small reads, pass whole", () => {
  const decoder = new SseDecoder(1000);
  const line = `data: ${"c".repeat(900)}\n\n`;
  const events = [];
  for (let round = 0; round < 3; round++) for (let i = 0; i < line.length; i += 7) events.push(...decoder.push(line.slice(i, i + 7)));
  assert.equal(events.length, 3);
  assert.ok(events.every((event) => event.data === "c".repeat(900)));
});

test("a \\r at the end of a read still pairs with the \\n of the next", () => {
  const decoder = new SseDecoder();
  const events = [...decoder.push("data: x\r"), ...decoder.push("\n\r\n"), ...decoder.push("data: y\n\n")];
  assert.deepEqual(
    events.map((event) => event.data),
    ["x", "y"],
  );
});

test("bare `data:` lines with nothing after them count toward the cap", () => {
  const decoder = new SseDecoder(1000);
  assert.throws(() => {
    for (let i = 0; i < 2000; i++) decoder.push("data:\n");
  }, SseEventTooLargeError);
});

test("a line trickled in 16-byte pieces is decoded without re-copying what came before", () => {
  // Re-joining the pending text on every push made this quadratic: minutes of CPU (the test's
  // own timeout fails it); joined once per line break it is a moment.
  const decoder = new SseDecoder(4 * 1024 * 1024);
  const piece = "x".repeat(16);
  decoder.push("data: ");
  for (let i = 0; i < (2 * 1024 * 1024) / 16; i++) assert.deepEqual(decoder.push(piece), []);
  const [event] = decoder.push("\n\n");
  assert.equal(event?.data.length, 2 * 1024 * 1024);
});
