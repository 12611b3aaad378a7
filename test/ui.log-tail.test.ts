import assert from "node:assert/strict";
import { appendFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { readLogTail, TAIL_BYTES } from "../src/gateway/ui/log-tail.js";
import { createTestState, type TestState } from "./helpers/cli.js";
import { afterEach, beforeEach, test } from "./helpers/test.js";

let state: TestState;
let file: string;
beforeEach(async () => {
  state = await createTestState();
  file = path.join(state.root, "gateway.log");
});
afterEach(() => state.cleanup());

const line = (msg: string) => `${JSON.stringify({ level: 30, msg })}\n`;
const messages = (tail: { lines: Array<Record<string, unknown>> }) => tail.lines.map((entry) => entry.msg);

test("the log tail: absent file tolerated, then only whole new lines from the cursor, and a rotated file starts over", async () => {
  assert.deepEqual(await readLogTail(file, undefined), { present: false, cursor: "", lines: [] });
  await writeFile(file, line("one") + line("two"));
  const first = await readLogTail(file, undefined);
  assert.deepEqual(messages(first), ["one", "two"]);
  // A line still being written is held back until its newline arrives.
  await appendFile(file, `${line("three")}{"level":30,"msg":"fo`);
  const second = await readLogTail(file, first.cursor);
  assert.deepEqual(messages(second), ["three"]);
  await appendFile(file, 'ur"}\nnot json\n');
  const third = await readLogTail(file, second.cursor);
  assert.deepEqual(messages(third), ["four", "not json"]);
  // Rotation: gateway.log → gateway.log.1, a new gateway.log (another inode) is read from its start.
  await rename(file, `${file}.1`);
  // (longer than the old cursor's offset, so only the file's identity tells that it is new)
  const padding = "x".repeat(200);
  await writeFile(file, line("after rotation") + line(padding));
  assert.deepEqual(messages(await readLogTail(file, third.cursor)), ["after rotation", padding]);
});

test("the first read shows only the end of a long log, from a whole line", async () => {
  const many = Array.from({ length: 5000 }, (_, index) => line(`line ${index}`)).join("");
  assert.ok(many.length > TAIL_BYTES * 2);
  await writeFile(file, many);
  const tail = await readLogTail(file, undefined);
  assert.ok(tail.lines.length > 0 && tail.lines.length < 5000);
  assert.equal(tail.lines.at(-1)?.msg, "line 4999");
  assert.match(String(tail.lines[0]?.msg), /^line \d+$/);
});
