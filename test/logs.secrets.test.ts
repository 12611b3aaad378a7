import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, type RecordedRequest, startFakeChutes } from "./helpers/fake-upstream.js";
import { GATEWAY_TOKEN, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { createLiveKey } from "./helpers/keys.js";
import { logFileOf, waitForRequestLine } from "./helpers/log-file.js";
import { after, before, test } from "./helpers/test.js";

// Log files get copied into bug reports: no credential may reach one, wherever a client or an
// upstream put it (headers, the URL's query or path, an upstream error quoting our key).

const UPSTREAM_KEY = "cpk_log_secret_upstream_0123456789abcdef";
let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;

before(async () => {
  chutes = await startFakeChutes();
  state = await createTestState({ CHUTES_API_KEY: UPSTREAM_KEY });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: "chutes/zai-org/GLM-4.7-TEE" } } },
  });
  gateway = await startGateway(state);
});
after(async () => {
  await gateway.stop();
  await chutes.close();
  await state.cleanup();
});

test("no gateway token, API key or upstream key in the log file after requests that carried them", async () => {
  const apiKey = (await createLiveKey(state, gateway.url, "log-secrets")).secret;
  const chat = (id: string, bearer: string) =>
    fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json", "x-request-id": id },
      body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hi" }] }),
    }).then((response) => response.text());
  const get = (id: string, path: string, headers: Record<string, string> = {}) =>
    fetch(`${gateway.url}${path}`, { headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, "x-request-id": id, ...headers } }).then(
      (response) => response.text(),
    );

  await chat("with-gateway-token", GATEWAY_TOKEN);
  await chat("with-api-key", apiKey);
  await get("token-in-query", `/v1/models?token=${GATEWAY_TOKEN}&api_key=${apiKey}`);
  await get("key-in-path", `/v1/${UPSTREAM_KEY}`);
  await get("wrong-bearer", "/v1/models", { authorization: `Bearer ${apiKey}x` });
  // An upstream that quotes the credential it received back in its error.
  chutes.route("POST /chat/completions", (request: RecordedRequest) => ({
    status: 401,
    body: { error: { message: `invalid key: ${request.headers.authorization}` } },
  }));
  await chat("upstream-echo", GATEWAY_TOKEN);

  for (const id of ["with-gateway-token", "with-api-key", "token-in-query", "key-in-path", "wrong-bearer", "upstream-echo"])
    await waitForRequestLine(state.stateDir, id);
  const text = readFileSync(logFileOf(state.stateDir), "utf8");
  for (const [name, secret] of [
    ["the gateway token", GATEWAY_TOKEN],
    ["the API key", apiKey],
    ["the upstream key", UPSTREAM_KEY],
  ] as const) {
    assert.ok(!text.includes(secret), `${name} is in the log file:\n${text}`);
    assert.ok(!gateway.stdout().includes(secret), `${name} is on stdout`);
  }
});
