import assert from "node:assert/strict";
import { formatTokens } from "../src/cli/format.js";
import { test } from "./helpers/test.js";

test("context sizes are shown in decimal units, as providers publish them", () => {
  const shown = Object.fromEntries(
    [128_000, 131_072, 40_960, 200_000, 262_144, 999_999, 1_000_000, 1_048_576, 1_500_000, 512].map((n) => [n, formatTokens(n)]),
  );
  assert.deepEqual(shown, {
    128000: "128k",
    131072: "131k",
    40960: "41k",
    200000: "200k",
    262144: "262k",
    999999: "1M",
    1000000: "1M",
    1048576: "1M",
    1500000: "1.5M",
    512: "512",
  });
  assert.equal(formatTokens(undefined), "-");
});
