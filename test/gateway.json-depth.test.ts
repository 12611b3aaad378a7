import assert from "node:assert/strict";
import { exceedsJsonDepth } from "../src/shared/json-depth.js";
import { test } from "./helpers/test.js";

test("the depth scan counts nesting the way JSON.parse sees it", () => {
  const deep = (depth: number) => `${"[".repeat(depth)}1${"]".repeat(depth)}`;
  assert.equal(exceedsJsonDepth(deep(3), 3), false);
  assert.equal(exceedsJsonDepth(deep(4), 3), true);
  // The shortest text nesting past the limit (short texts skip the scan: they cannot).
  assert.equal(exceedsJsonDepth("[[[[]]]]", 3), true);
  assert.equal(exceedsJsonDepth("[[[]]]", 2), true);
  assert.equal(exceedsJsonDepth('{"a":{"b":[1]},"c":{"d":[2]}}', 3), false, "siblings do not add up");
  // Brackets inside strings are text, including after escaped quotes and escaped backslashes.
  assert.equal(exceedsJsonDepth(JSON.stringify({ a: "[[[[{{{{" }), 1), false);
  assert.equal(exceedsJsonDepth(JSON.stringify({ a: 'say \\"[[[[" and \\\\' }), 1), false);
  assert.equal(exceedsJsonDepth(`{"a":"\\\\",${'"b":'.repeat(1)}[[[1]]]}`, 3), true, "a string ending in a backslash ends there");
  // Whatever it cannot read is left for JSON.parse to refuse.
  assert.equal(exceedsJsonDepth('{"a": "unterminated [[[[', 1), false);
});
