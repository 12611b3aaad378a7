import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { CLI, createTestState, isOneLineError, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import {
  completion,
  type FakeUpstream,
  fixtureEvents,
  fixtureJson,
  startFakeChutes,
  startFakeHuggingFace,
  wordStream,
} from "./helpers/fake-upstream.js";
import { after, afterEach, before, beforeEach, test } from "./helpers/test.js";

const CHUTES_KEY = "cpk_FAKE-test-key-not-a-real-credential.0000.a1b2";

let chutes: FakeUpstream;
let hf: FakeUpstream;
let state: TestState;
before(async () => {
  chutes = await startFakeChutes();
  hf = await startFakeHuggingFace();
});
after(async () => {
  await chutes.close();
  await hf.close();
});
beforeEach(async () => {
  state = await createTestState({ CHUTES_API_KEY: CHUTES_KEY, HF_TOKEN: "hf_test_token_0123456789" });
  for (const upstream of [chutes, hf]) upstream.requests.length = 0;
  chutes.route("GET /models", { body: fixtureJson("chutes-models.json") });
  chutes.route("POST /chat/completions", (request) => ({
    events: wordStream(["Hello", " from", " Chutes"], (request.body as { model: string }).model),
  }));
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url }, huggingface: { baseUrl: hf.url } } },
    agents: { defaults: { model: { primary: "chutes/zai-org/GLM-4.7-TEE" } } },
  });
});
afterEach(() => state.cleanup());

const chatRequests = (upstream: FakeUpstream) => upstream.requests.filter((request) => request.path === "/v1/chat/completions");
const lastBody = (upstream: FakeUpstream) => chatRequests(upstream).at(-1)?.body as Record<string, unknown> | undefined;

test("chat streams the answer to stdout token by token", async () => {
  chutes.route("POST /chat/completions", { events: wordStream(["one", " two", " three"]), eventDelayMs: 250 });
  const child = spawn(process.execPath, [CLI, "chat", "Count to three"], { env: state.env });
  const arrivals: Array<{ at: number; text: string }> = [];
  child.stdout.setEncoding("utf8").on("data", (text: string) => arrivals.push({ at: Date.now(), text }));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  assert.equal(code, 0);
  assert.equal(arrivals.map((arrival) => arrival.text).join(""), "one two three\n");
  // "one" was on screen well before the answer was complete.
  const first = arrivals.find((arrival) => arrival.text.includes("one"));
  const last = arrivals.find((arrival) => arrival.text.includes("three"));
  assert.ok(first && last && last.at - first.at >= 300, `tokens arrived together: ${JSON.stringify(arrivals)}`);
  assert.deepEqual(lastBody(chutes)?.messages, [{ role: "user", content: "Count to three" }]);
  assert.equal(lastBody(chutes)?.model, "zai-org/GLM-4.7-TEE");
  assert.equal(chatRequests(chutes)[0]?.headers.authorization, `Bearer ${CHUTES_KEY}`);
});

test("chat reads the prompt from stdin and sends --system first", async () => {
  const result = await runCli(state, ["chat", "--system", "Be brief."], { input: "What is a TEE?\n" });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "Hello from Chutes\n");
  assert.deepEqual(lastBody(chutes)?.messages, [
    { role: "system", content: "Be brief." },
    { role: "user", content: "What is a TEE?" },
  ]);
});

test("chat passes reasoning_content through only when asked", async () => {
  chutes.route("POST /chat/completions", { events: fixtureEvents("chutes-chat-stream.reconstructed.sse") });
  const plain = await runCli(state, ["chat", "hi"]);
  assert.equal(plain.stdout, "Hello! How can I help?\n");
  assert.equal(plain.stderr, "");
  const withReasoning = await runCli(state, ["chat", "--reasoning", "hi"]);
  assert.match(withReasoning.stderr, /The user greets me\./);
});

test("aliases resolve: built-in chutes-fast, and the user's own", async () => {
  assert.equal((await runCli(state, ["chat", "--model", "chutes-fast", "hi"])).code, 0);
  assert.equal(lastBody(chutes)?.model, "zai-org/GLM-4.7-FP8");
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: {
      defaults: {
        models: {
          "chutes-fast": { alias: "chutes/zai-org/GLM-4.7-Flash" },
          "chutes/deepseek-ai/DeepSeek-V3.2-TEE": { alias: "Chutes DeepSeek" },
        },
      },
    },
  });
  assert.equal((await runCli(state, ["chat", "-m", "chutes-fast", "hi"])).code, 0);
  assert.equal(lastBody(chutes)?.model, "zai-org/GLM-4.7-Flash");
  assert.equal((await runCli(state, ["chat", "-m", "Chutes DeepSeek", "hi"])).code, 0);
  assert.equal(lastBody(chutes)?.model, "deepseek-ai/DeepSeek-V3.2-TEE");
});

test("Hugging Face suffixes reach the router inside the model id", async () => {
  const result = await runCli(state, ["chat", "--model", "huggingface/Qwen/Qwen3-8B:cheapest", "hi"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "Hi from HF\n");
  assert.equal(lastBody(hf)?.model, "Qwen/Qwen3-8B:cheapest");
  assert.equal(chatRequests(hf)[0]?.headers.authorization, "Bearer hf_test_token_0123456789");
});

test("a 503 before the first byte falls back to the next model, in order", async () => {
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url }, huggingface: { baseUrl: hf.url } } },
    agents: {
      defaults: {
        model: {
          primary: "chutes/zai-org/GLM-4.7-TEE",
          fallbacks: ["chutes/deepseek-ai/DeepSeek-V3.2-TEE", "huggingface/deepseek-ai/DeepSeek-R1"],
        },
      },
    },
  });
  chutes.route("POST /chat/completions", { status: 503, body: { detail: "No instances available (yet) for chute_id='x'" } });
  const result = await runCli(state, ["chat", "hi"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "Hi from HF\n");
  assert.deepEqual(
    chatRequests(chutes).map((request) => (request.body as { model: string }).model),
    ["zai-org/GLM-4.7-TEE", "deepseek-ai/DeepSeek-V3.2-TEE"],
  );
  assert.match(
    result.stderr,
    /chutes\/zai-org\/GLM-4\.7-TEE failed \(chutes returned HTTP 503: No instances available.*\); trying chutes\/deepseek-ai\/DeepSeek-V3\.2-TEE/,
  );
});

test("--no-fallback and non-retryable errors do not fall back", async () => {
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url }, huggingface: { baseUrl: hf.url } } },
    agents: { defaults: { model: { primary: "chutes/zai-org/GLM-4.7-TEE", fallbacks: ["huggingface/deepseek-ai/DeepSeek-R1"] } } },
  });
  chutes.route("POST /chat/completions", { status: 503, body: { detail: "No instances available" } });
  const noFallback = await runCli(state, ["chat", "--no-fallback", "hi"]);
  assert.notEqual(noFallback.code, 0);
  assert.equal(chatRequests(hf).length, 0);
  chutes.route("POST /chat/completions", { status: 400, body: { error: { message: "bad temperature", type: "invalid_request_error" } } });
  const badRequest = await runCli(state, ["chat", "hi"]);
  assert.notEqual(badRequest.code, 0);
  assert.match(badRequest.stderr, /bad temperature/);
  assert.equal(chatRequests(hf).length, 0);
});

test("upstream errors become one helpful line: 401, 402, 503", async () => {
  chutes.route("POST /chat/completions", { status: 401, body: { detail: "Invalid token." } });
  const unauthorized = await runCli(state, ["chat", "hi"]);
  assert.equal(unauthorized.code, 1);
  assert.ok(isOneLineError(unauthorized.stderr), unauthorized.stderr);
  assert.match(unauthorized.stderr, /chutes rejected the credential from env CHUTES_API_KEY \(cpk_…a1b2\).*paste-token --provider chutes/);
  assert.ok(!unauthorized.stderr.includes(CHUTES_KEY));
  chutes.route("POST /chat/completions", {
    status: 402,
    body: { detail: "Quota exceeded and account balance is $0.0, please pay with fiat or send tao to 5Fxxxx" },
  });
  const payment = await runCli(state, ["chat", "hi"]);
  assert.match(payment.stderr, /payment is required .*Quota exceeded.*add credit/);
  chutes.route("POST /chat/completions", { status: 503, body: { detail: "No instances available (yet) for chute_id='abc'" } });
  const unavailable = await runCli(state, ["chat", "hi"]);
  assert.match(unavailable.stderr, /chutes has no instances available for chutes\/zai-org\/GLM-4\.7-TEE right now/);
});

test("no credential for the provider: a clear line saying how to add one", async () => {
  const result = await runCli(state, ["chat", "hi"], { env: { CHUTES_API_KEY: "" } });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /no credential for chutes: run `openclaw onboard`/);
  assert.equal(chatRequests(chutes).length, 0);
});

test("an unknown model or provider is a clear error", async () => {
  const result = await runCli(state, ["chat", "--model", "nope/thing", "hi"]);
  assert.equal(result.code, 1);
  assert.ok(isOneLineError(result.stderr), result.stderr);
  assert.match(result.stderr, /unknown model "nope\/thing"/);
});

test("teeOnly refuses a non-TEE model before any request, and sends X-TEE-Only for TEE ones", async () => {
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url, teeOnly: true } } },
    agents: {
      defaults: {
        model: { primary: "chutes/Qwen/Qwen3-32B-TEE", fallbacks: ["chutes/unsloth/gemma-3-12b-it", "chutes/zai-org/GLM-5.1-TEE"] },
      },
    },
  });
  const refused = await runCli(state, ["chat", "--model", "chutes/unsloth/gemma-3-12b-it", "hi"]);
  assert.notEqual(refused.code, 0);
  assert.match(
    refused.stderr,
    /chutes\/unsloth\/gemma-3-12b-it is not a TEE \(confidential compute\) model, and models\.providers\.chutes\.teeOnly is true/,
  );
  assert.equal(chatRequests(chutes).length, 0);
  // Fallbacks skip the non-TEE model.
  chutes.route("POST /chat/completions", (request) =>
    (request.body as { model: string }).model === "Qwen/Qwen3-32B-TEE" ? { status: 503, body: {} } : { events: wordStream(["ok"]) },
  );
  const ok = await runCli(state, ["chat", "hi"]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(
    chatRequests(chutes).map((request) => [(request.body as { model: string }).model, request.headers["x-tee-only"]]),
    [
      ["Qwen/Qwen3-32B-TEE", "true"],
      ["zai-org/GLM-5.1-TEE", "true"],
    ],
  );
});

test("Ctrl-C stops the answer and aborts the upstream request", async () => {
  chutes.route("POST /chat/completions", { events: wordStream(Array.from({ length: 50 }, (_, i) => ` w${i}`)), eventDelayMs: 200 });
  const child = spawn(process.execPath, [CLI, "chat", "talk forever"], { env: state.env });
  let stdout = "";
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
  });
  const aborted = chutes.nextAbort();
  await new Promise<void>((resolve) =>
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      stdout += text;
      if (stdout.includes("w1")) resolve();
    }),
  );
  child.kill("SIGINT");
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  await aborted;
  assert.equal(code, 130);
  assert.match(stderr, /^openclaw: interrupted\n$/);
  assert.ok(chutes.abortedStreams >= 1);
  assert.ok(!stdout.includes("w49"));
});

test("a non-streaming upstream is not needed: chat uses streaming", async () => {
  chutes.route("POST /chat/completions", (request) =>
    (request.body as { stream?: boolean }).stream ? { events: wordStream(["streamed"]) } : { body: completion("not streamed") },
  );
  const result = await runCli(state, ["chat", "hi"]);
  assert.equal(result.stdout, "streamed\n");
  assert.equal(lastBody(chutes)?.stream, true);
});

test("without a prompt on a terminal, chat is a multi-turn conversation with /model and history", async () => {
  const { spawnCliInPty } = await import("./helpers/pty.js");
  const session = spawnCliInPty(["chat"], state.env);
  await session.waitFor(/you> /);
  session.write("first question\r");
  await session.waitFor(/Hello from Chutes[\s\S]*you> /);
  session.write("/model huggingface/Qwen/Qwen3-8B\r");
  await session.waitFor(/model: huggingface\/Qwen\/Qwen3-8B/);
  session.write("second question\r");
  await session.waitFor(/Hi from HF[\s\S]*you> /);
  session.write("\x04");
  assert.equal(await session.exit, 0);
  assert.deepEqual(lastBody(hf)?.messages, [
    { role: "user", content: "first question" },
    { role: "assistant", content: "Hello from Chutes" },
    { role: "user", content: "second question" },
  ]);
});

test("Ctrl-C during an answer in the interactive chat stops it and aborts the upstream", async () => {
  const { spawnCliInPty } = await import("./helpers/pty.js");
  chutes.route("POST /chat/completions", { events: wordStream(Array.from({ length: 60 }, (_, i) => ` w${i}`)), eventDelayMs: 100 });
  const aborted = chutes.nextAbort();
  const session = spawnCliInPty(["chat"], state.env);
  await session.waitFor(/you> /);
  session.write("go on forever\r");
  await session.waitFor(/w2/);
  session.write("\x03");
  await session.waitFor(/\(stopped\)/);
  await aborted;
  session.write("\x04");
  assert.equal(await session.exit, 0);
});

test("a reader that goes away (chat | head) ends quietly", async () => {
  const { runShell } = await import("./helpers/cli.js");
  chutes.route("POST /chat/completions", { events: wordStream(Array.from({ length: 2000 }, (_, i) => ` word${i}`)) });
  const result = await runShell(state, "set +o pipefail; openclaw chat hi | head -c 5; echo; echo exit=${PIPESTATUS[0]}");
  assert.match(result.stdout, /exit=0/);
  assert.ok(!/\n\s+at /.test(result.stderr), result.stderr);
});
