import assert from "node:assert/strict";
import type { APIError } from "openai";
import { createTestState, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { GATEWAY_TOKEN, jsonOf, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { after, before, test } from "./helpers/test.js";
import { eventually } from "./helpers/wait.js";

const QWEN = "chutes/Qwen/Qwen3-32B-TEE";

let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;

const call = (path: string, init: { method?: string; body?: unknown; token?: string } = {}) =>
  fetch(`${gateway.url}${path}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${init.token ?? GATEWAY_TOKEN}`, "content-type": "application/json" },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });

before(async () => {
  chutes = await startFakeChutes();
  state = await createTestState({ CHUTES_API_KEY: "cpk_operator_routes_0000000000" });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: QWEN } } },
  });
  gateway = await startGateway(state);
});
after(async () => {
  await gateway.stop();
  await chutes.close();
  await state.cleanup();
});

test("the operator creates, lists, updates and revokes keys over HTTP; each change applies before the answer", async () => {
  const created = await call("/v1/openclaw/keys", {
    method: "POST",
    body: { name: "webui", models: [QWEN], rpm: 100, budget: { usd: 5, period: "7d" } },
  });
  assert.equal(created.status, 201);
  const { key, secret } = await jsonOf(created);
  assert.match(secret, /^ock_/);
  assert.deepEqual(key.models, [QWEN]);
  assert.equal(key.hash, undefined);
  assert.equal(key.salt, undefined);
  // No waiting for a file watcher: the key works as soon as it is returned.
  const answer = await gateway
    .client({ apiKey: secret })
    .chat.completions.create({ model: QWEN, messages: [{ role: "user", content: "hi" }] });
  assert.equal(answer.choices[0]?.message.content, "Hello from Chutes");

  const listed = await (await call("/v1/openclaw/keys")).text();
  assert.ok(listed.includes('"webui"') && !listed.includes(secret.slice(-20)), "listed, never with its secret");

  const updated = await call(`/v1/openclaw/keys/${key.id}`, { method: "PATCH", body: { rpm: 1, models: null } });
  assert.equal(updated.status, 200);
  const after = await jsonOf(updated);
  assert.equal(after.rpm, 1);
  assert.equal(after.models, null);
  const bad = await call(`/v1/openclaw/keys/${key.id}`, { method: "PATCH", body: { rpm: -1 } });
  assert.equal(bad.status, 400);
  assert.equal((await jsonOf(bad)).error.param, "rpm");

  const revoked = await call("/v1/openclaw/keys/webui", { method: "DELETE" });
  assert.equal(revoked.status, 200);
  assert.equal((await jsonOf(revoked)).state, "revoked");
  const refused = await gateway
    .client({ apiKey: secret })
    .models.list()
    .then(
      () => undefined,
      (error: APIError) => error,
    );
  assert.equal(refused?.status, 401);
});

test("an API key cannot use the operator routes (403)", async () => {
  const secret = (await runCli(state, ["keys", "create", "--name", "nosy"])).stdout.trim();
  await eventually(
    () => call("/v1/models", { token: secret }).then((response) => response.status),
    (status) => status === 200,
  );
  for (const [path, method] of [
    ["/v1/openclaw/keys", "GET"],
    ["/v1/openclaw/keys", "POST"],
    ["/v1/openclaw/usage", "GET"],
    ["/v1/openclaw/keys/nosy", "DELETE"],
  ] as const) {
    const response = await call(path, { method, token: secret, ...(method === "POST" ? { body: { name: "mine" } } : {}) });
    assert.equal(response.status, 403, `${method} ${path}`);
    assert.equal((await jsonOf(response)).error.code, "operator_only");
  }
  assert.equal((await runCli(state, ["keys", "show", "nosy", "--json"])).code, 0);
  assert.ok(!(await runCli(state, ["keys", "list", "--json"])).stdout.includes('"mine"'));
});

test("GET /v1/openclaw/usage answers what `openclaw usage --json` prints", async () => {
  const secret = (await runCli(state, ["keys", "create", "--name", "counted"])).stdout.trim();
  await eventually(
    () => call("/v1/models", { token: secret }).then((response) => response.status),
    (status) => status === 200,
  );
  await gateway.client({ apiKey: secret }).chat.completions.create({ model: QWEN, messages: [{ role: "user", content: "hi" }] });
  const http = await eventually(
    async () => jsonOf(await call("/v1/openclaw/usage?by=key&since=1d")),
    (body) => body.rows?.some((row: { name: string }) => row.name === "counted"),
  );
  const cli = JSON.parse((await runCli(state, ["usage", "--by", "key", "--since", "1d", "--json"])).stdout);
  assert.deepEqual(http.rows, cli.rows);
  const one = await jsonOf(await call("/v1/openclaw/usage?by=model&key=counted"));
  assert.deepEqual(
    one.rows.map((row: { group: string; requests: number }) => [row.group, row.requests]),
    [[QWEN, 1]],
  );
  assert.equal((await call("/v1/openclaw/usage?by=colour")).status, 400);
});
