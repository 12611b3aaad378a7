import assert from "node:assert/strict";
import { OpenAICompatibleClient } from "../src/providers/openai-compatible/client.js";
import { type FakeUpstream, startFakeUpstream, wordStream } from "./helpers/fake-upstream.js";
import { after, before, test } from "./helpers/test.js";

// A consumer that stops iterating (`break` in `for await`, i.e. `return()` on the iterator) aborts
// the upstream request, as openai-node's stream does in its `finally`.

let upstream: FakeUpstream;
let client: OpenAICompatibleClient;

before(async () => {
  upstream = await startFakeUpstream();
  client = new OpenAICompatibleClient({ providerId: "fake", baseUrl: upstream.url });
});
after(() => upstream.close());

test("break after the first chunk closes the upstream connection", { timeout: 20_000 }, async () => {
  // Slow enough that the stream is far from its end when the consumer leaves.
  upstream.route("POST /chat/completions", { events: wordStream(Array.from({ length: 200 }, (_, i) => `w${i} `)), eventDelayMs: 20 });
  const aborted = upstream.nextAbort();
  let seen = 0;
  for await (const _chunk of await client.chatStream({ model: "m", messages: [{ role: "user", content: "hi" }] }, { apiKey: "k" })) {
    seen++;
    if (seen === 2) break;
  }
  await aborted;
  assert.equal(seen, 2);
  assert.equal(upstream.abortedStreams, 1);
});
