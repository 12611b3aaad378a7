import assert from "node:assert/strict";
import { SseDecoder } from "../src/providers/openai-compatible/sse-decoder.js";
import { test } from "./helpers/test.js";

const feed = (parts: Array<string | Uint8Array>) => {
  const decoder = new SseDecoder();
  const events = parts.flatMap((part) => decoder.push(part));
  return [...events, ...decoder.end()].map((event) => event.data);
};

test("events split mid-line and mid-field across chunks are reassembled", () => {
  assert.deepEqual(feed(["da", 'ta: {"a"', ":1}\n", "\ndata: [DO", "NE]\n\n"]), ['{"a":1}', "[DONE]"]);
});

test("\\r\\n, \\r and \\n line endings all work, even with \\r\\n split across chunks", () => {
  assert.deepEqual(feed(["data: one\r", "\n\r\n", "data: two\r\rdata: three\n\n"]), ["one", "two", "three"]);
});

test("comments and keep-alives are skipped; event and id fields are kept", () => {
  const decoder = new SseDecoder();
  const events = decoder.push(": ping\n\nevent: response.created\nid: 7\ndata: {}\n\n");
  assert.deepEqual(events, [{ event: "response.created", id: "7", data: "{}" }]);
});

test("multi-line data joins with newlines", () => {
  assert.deepEqual(feed(["data: a\ndata: b\n\n"]), ["a\nb"]);
});

test("a final event without a blank line is flushed at the end", () => {
  assert.deepEqual(feed(["data: last"]), ["last"]);
});

test("a multi-byte character split across chunks survives", () => {
  const bytes = new TextEncoder().encode("data: héllo 🦞\n\n");
  assert.deepEqual(feed([bytes.slice(0, 8), bytes.slice(8, 15), bytes.slice(15)]), ["héllo 🦞"]);
});

test("a bare JSON line (an upstream error after streaming started) becomes its own event", () => {
  assert.deepEqual(feed(['data: {"ok":1}\n\n{"error": "boom"}\n']), ['{"ok":1}', '{"error": "boom"}']);
});
