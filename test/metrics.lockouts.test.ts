import assert from "node:assert/strict";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { GATEWAY_TOKEN, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { parsePrometheus, total } from "./helpers/prometheus-text.js";
import { after, before, test } from "./helpers/test.js";
import { eventually } from "./helpers/wait.js";

let state: TestState;
let gateway: RunningGateway;

before(async () => {
  state = await createTestState();
  await writeConfig(state, { gateway: { auth: { rateLimit: { maxAttempts: 2, windowMs: 60_000, lockoutMs: 2_000 } } } });
  gateway = await startGateway(state);
});
after(async () => {
  await gateway.stop();
  await state.cleanup();
});

const get = (path: string, token: string) => fetch(`${gateway.url}${path}`, { headers: { authorization: `Bearer ${token}` } });

test("requests refused by an authentication lockout are counted", async () => {
  // Two wrong tokens lock this client out; the right token is then refused too (429) until it ends.
  let refused = false;
  for (let tries = 0; !refused && tries < 5; tries++) {
    for (let i = 0; i < 2; i++) assert.equal((await get("/v1/models", "wrong-token")).status, 401);
    refused = (await get("/v1/models", GATEWAY_TOKEN)).status === 429;
  }
  assert.ok(refused, "the lockout refused the right token");
  const scrape = await eventually(
    () => get("/metrics", GATEWAY_TOKEN),
    (response) => response.status === 200,
  );
  const samples = parsePrometheus(await scrape.text());
  assert.ok(total(samples, "openclaw_auth_lockout_refusals_total", { scope: "client" }) >= 1);
});
