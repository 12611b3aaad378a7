import assert from "node:assert/strict";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { type RunningGateway, startGateway } from "./helpers/gateway.js";
import { type RedisServer, startRedisServer } from "./helpers/redis-server.js";
import { after, before, test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";

// Two replicas on two "machines" (state dirs of their own, so no shared cache file): the model
// list one of them discovered serves the other through Redis.
let redis: RedisServer;
let chutes: FakeUpstream;
const states: TestState[] = [];
const replicas: RunningGateway[] = [];

before(async () => {
  redis = await startRedisServer();
  chutes = await startFakeChutes();
});
after(async () => {
  await Promise.all(replicas.map((replica) => replica.stop()));
  await Promise.all(states.map((state) => state.cleanup()));
  await chutes.close();
  await redis.stop();
});

async function machine(): Promise<RunningGateway> {
  const state = await createTestState({ CHUTES_API_KEY: "cpk_discovery_shared_0000000000", OPENCLAW_REDIS_URL: redis.url });
  states.push(state);
  await writeConfig(state, { models: { providers: { chutes: { baseUrl: chutes.url } } } });
  const replica = await startGateway(state);
  replicas.push(replica);
  return replica;
}

const discoveries = () => chutes.requests.filter((request) => request.method === "GET" && request.path === "/v1/models").length;

test("a model list discovered by one replica serves another through Redis (no second discovery)", async () => {
  const first = await machine();
  await waitUntil(async () => (await redis.command("KEYS", "openclaw:cache:discovery:chutes:*")).includes("discovery:chutes:"), {
    what: "the list in Redis",
  });
  assert.equal(discoveries(), 1);
  const second = await machine();
  const listed = await second.client().models.list();
  assert.ok(listed.data.some((model) => model.id.startsWith("chutes/")));
  assert.equal(discoveries(), 1, "the second replica used the shared list");
  assert.ok((await first.client().models.list()).data.length > 0);
});
