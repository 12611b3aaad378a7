import assert from "node:assert/strict";
import { createTestState, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { type RunningGateway, startGateway } from "./helpers/gateway.js";
import { type RedisServer, startRedisServer } from "./helpers/redis-server.js";
import { after, before, test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";

const PASSWORD = "redis-pass-not-a-real-secret-7f3a";
let redis: RedisServer;
let state: TestState;
let gateway: RunningGateway;

before(async () => {
  redis = await startRedisServer({ password: PASSWORD });
  state = await createTestState({ TEST_REDIS_URL: redis.url });
  await writeConfig(state, { gateway: { state: { redis: "${TEST_REDIS_URL}" } } });
  gateway = await startGateway(state);
});
after(async () => {
  await gateway.stop();
  await redis.stop();
  await state.cleanup();
});

test("the gateway names its Redis at start with the password redacted", async () => {
  assert.match(gateway.stderr(), new RegExp(`shared state:\\s+Redis redis://:\\*\\*\\*@127\\.0\\.0\\.1:${redis.port}`));
  assert.ok(!(gateway.stdout() + gateway.stderr()).includes(PASSWORD));
  // It authenticated: its connection is listed by name.
  await waitUntil(async () => (await redis.command("CLIENT", "LIST")).includes("name=openclaw "), { what: "the gateway's connection" });
});

test("gateway status checks that Redis answers (PING), and exits 1 when it does not", async () => {
  await waitUntil(async () => (await runCli(state, ["gateway", "status"])).code === 0, { what: "the gateway record" });
  const ok = await runCli(state, ["gateway", "status"]);
  assert.match(ok.stdout, new RegExp(`redis:\\s+ok \\(\\d+ ms\\) at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${redis.port}`));
  const json = JSON.parse((await runCli(state, ["gateway", "status", "--json"])).stdout);
  assert.equal(json.backends.redis.ok, true);
  await redis.kill();
  const down = await runCli(state, ["gateway", "status", "--json"]);
  assert.equal(down.code, 1);
  const body = JSON.parse(down.stdout);
  assert.equal(body.healthy, true, "the gateway itself still answers");
  assert.equal(body.backends.redis.ok, false);
  assert.ok(!down.stdout.includes(PASSWORD));
  await redis.restart();
});
