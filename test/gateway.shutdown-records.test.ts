import assert from "node:assert/strict";
import { createTestState, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, startFakeChutes, wordStream } from "./helpers/fake-upstream.js";
import { type RunningGateway, startGateway } from "./helpers/gateway.js";
import { after, afterEach, before, beforeEach, test } from "./helpers/test.js";

const STREAMS = 12;
let chutes: FakeUpstream;
let state: TestState;

before(async () => {
  chutes = await startFakeChutes();
  // Streams far longer than any drain timeout below: the shutdown has to cut them.
  chutes.route("POST /chat/completions", { events: wordStream(Array.from({ length: 400 }, (_, i) => ` w${i}`)), eventDelayMs: 100 });
});
after(() => chutes.close());
beforeEach(async () => {
  state = await createTestState({ CHUTES_API_KEY: "cpk_shutdown_records_key_0000" });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: "chutes/Qwen/Qwen3-32B-TEE" } } },
  });
});
afterEach(() => state.cleanup());

/** Open `STREAMS` streams, each in its own session, and resolve once every one has its first words. */
async function openStreams(gateway: RunningGateway): Promise<Array<Promise<unknown>>> {
  const started: Array<Promise<void>> = [];
  const finished: Array<Promise<unknown>> = [];
  for (let i = 0; i < STREAMS; i++) {
    let markStarted: () => void = () => undefined;
    started.push(new Promise<void>((resolve) => (markStarted = resolve)));
    const client = gateway.client({ headers: { "x-openclaw-session-key": `cut-${i}` } });
    finished.push(
      (async () => {
        const stream = await client.chat.completions.create({
          model: "openclaw",
          stream: true,
          messages: [{ role: "user", content: "go" }],
        });
        for await (const chunk of stream) if (chunk.choices[0]?.delta.content) markStarted();
      })().catch((error: unknown) => error),
    );
  }
  await Promise.all(started);
  return finished;
}

async function assertEveryStreamRecorded(): Promise<void> {
  const listed = await runCli(state, ["sessions", "list", "--json", "--limit", "500"]);
  assert.equal(listed.code, 0, listed.stderr);
  const keys = new Set(JSON.parse(listed.stdout).sessions.map((session: { key: string }) => session.key));
  for (let i = 0; i < STREAMS; i++) {
    assert.ok(keys.has(`cut-${i}`), `stream cut-${i} has no record (${[...keys].join(", ")})`);
    const shown = JSON.parse((await runCli(state, ["sessions", "show", `cut-${i}`, "--json"])).stdout);
    assert.equal(shown.turns.length, 1);
    assert.equal(shown.turns[0].status, "aborted");
  }
}

test("SIGTERM past the drain timeout records every stream it cuts", async () => {
  const gateway = await startGateway(state, ["--enable-endpoints", "--drain-timeout", "200"]);
  const streams = await openStreams(gateway);
  gateway.child.kill("SIGTERM");
  assert.equal(await gateway.exited, 0);
  await Promise.all(streams);
  await assertEveryStreamRecorded();
});

test("a second SIGTERM cuts at once and still records every stream", async () => {
  const gateway = await startGateway(state, ["--enable-endpoints", "--drain-timeout", "600000"]);
  const streams = await openStreams(gateway);
  gateway.child.kill("SIGTERM");
  // Wait until the first signal is handled (the listener is closed) before sending the second.
  for (;;) {
    if (/shutting down/.test(gateway.stdout())) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  gateway.child.kill("SIGTERM");
  assert.equal(await gateway.exited, 0);
  await Promise.all(streams);
  await assertEveryStreamRecorded();
});

test("/v1/responses streams cut by a shutdown are recorded too", async () => {
  const gateway = await startGateway(state, ["--enable-endpoints", "--drain-timeout", "200"]);
  const started: Array<Promise<void>> = [];
  const finished: Array<Promise<unknown>> = [];
  for (let i = 0; i < 3; i++) {
    let markStarted: () => void = () => undefined;
    started.push(new Promise<void>((resolve) => (markStarted = resolve)));
    const client = gateway.client({ headers: { "x-openclaw-session-key": `cut-responses-${i}` } });
    finished.push(
      (async () => {
        const stream = await client.responses.create({ model: "openclaw", stream: true, input: "go" });
        for await (const event of stream) if (event.type === "response.output_text.delta") markStarted();
      })().catch((error: unknown) => error),
    );
  }
  await Promise.all(started);
  gateway.child.kill("SIGTERM");
  assert.equal(await gateway.exited, 0);
  await Promise.all(finished);
  for (let i = 0; i < 3; i++) {
    const shown = await runCli(state, ["sessions", "show", `cut-responses-${i}`, "--json"]);
    assert.equal(shown.code, 0, `cut-responses-${i} has no record: ${shown.stderr}`);
    const { turns } = JSON.parse(shown.stdout);
    assert.equal(turns.length, 1);
    assert.equal(turns[0].status, "aborted");
    assert.equal(turns[0].endpoint, "responses");
  }
});
