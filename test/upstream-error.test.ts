import assert from "node:assert/strict";
import { parseErrorBody, upstreamHttpError } from "../src/providers/openai-compatible/upstream-error.js";
import { test } from "./helpers/test.js";

test("OpenAI error bodies give message, code and param", () => {
  const body = JSON.stringify({
    error: {
      message: "Model is not supported for this request.",
      code: "model_not_supported",
      param: "model",
      type: "invalid_request_error",
    },
  });
  assert.deepEqual(parseErrorBody(body), {
    message: "Model is not supported for this request.",
    code: "model_not_supported",
    param: "model",
  });
});

test("FastAPI detail strings and validation lists are read", () => {
  assert.equal(parseErrorBody('{"detail": "Invalid or expired token"}').message, "Invalid or expired token");
  assert.equal(parseErrorBody('{"detail": [{"loc": ["body","model"], "msg": "field required"}]}').message, "field required");
});

test("a bare {error: text} and plain text are read", () => {
  assert.equal(parseErrorBody('{"error": "No instances available"}').message, "No instances available");
  assert.equal(parseErrorBody("upstream connect error").message, "upstream connect error");
});

test("HTML pages and empty bodies give something readable", () => {
  assert.equal(parseErrorBody("<html><head><title>502 Bad Gateway</title></head></html>").message, "HTML error page: 502 Bad Gateway");
  assert.deepEqual(parseErrorBody(""), {});
});

test("status mapping: client errors pass through, the provider refusing our key and 5xx become 502/503/504, retryable is set", () => {
  const cases: Array<[number, number, boolean]> = [
    [400, 400, false],
    [401, 502, false],
    [403, 502, false],
    [402, 402, false],
    [404, 404, false],
    [429, 429, true],
    [500, 502, true],
    [503, 503, true],
    [504, 504, true],
  ];
  for (const [upstream, ours, retryable] of cases) {
    const error = upstreamHttpError({ providerId: "chutes", status: upstream, body: "" });
    assert.equal(error.status, ours, `status for ${upstream}`);
    assert.equal(error.retryable, retryable, `retryable for ${upstream}`);
    assert.equal(error.upstreamStatus, upstream);
    assert.match(error.message, new RegExp(`chutes returned HTTP ${upstream}`));
  }
});

test("Retry-After is kept", () => {
  const error = upstreamHttpError({ providerId: "chutes", status: 429, body: "{}", retryAfter: "7" });
  assert.equal(error.retryAfterSeconds, 7);
});
