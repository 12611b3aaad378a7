import assert from "node:assert/strict";
import { boundGpuNonce } from "../src/providers/chutes/tee/gpu/gpu-nonce.js";
import { test } from "./helpers/test.js";

test("the GPU nonce is SHA-256 of the caller's nonce then the e2e key, as chutes' verify.py computes it", () => {
  // python3: hashlib.sha256(("ab" * 32 + "QUJDREVGRw==").encode()).hexdigest()
  assert.equal(boundGpuNonce("ab".repeat(32), "QUJDREVGRw=="), "cb2f14c1be071a3db344bc4e91636eff3b53c71b38312b13b9eb57a4708aa56a");
});
