import assert from "node:assert/strict";
import { APIError } from "openai";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { GATEWAY_TOKEN, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { createLiveKey } from "./helpers/keys.js";
import { type RedisServer, startRedisServer } from "./helpers/redis-server.js";
import { after, afterEach, before, test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";

const MODEL = "chutes/Qwen/Qwen3-32B-TEE";

let chutes: FakeUpstream;
let redis: RedisServer | undefined;
let state: TestState | undefined;
let replicas: RunningGateway[] = [];

before(async () => {
  chutes = await startFakeChutes();
});
after(() => chutes.close());
/** SIGTERM, and SIGKILL if the drain has not ended it (a failed test must not hang the file). */
async function stopReplica(replica: RunningGateway): Promise<void> {
  const killer = setTimeout(() => replica.child.kill("SIGKILL"), 15_000);
  await replica.stop();
  clearTimeout(killer);
}

afterEach(async () => {
  await Promise.all(replicas.map(stopReplica));
  replicas = [];
  await redis?.stop();
  await state?.cleanup();
});

async function startReplicas(count: number, failMode: "open" | "closed"): Promise<void> {
  redis = await startRedisServer();
  state = await createTestState({ CHUTES_API_KEY: "cpk_replicas_outage_00000000000", OPENCLAW_REDIS_URL: redis.url });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: MODEL } } },
    gateway: { state: { redisFailMode: failMode } },
  });
  const testState = state;
  replicas = await Promise.all(Array.from({ length: count }, () => startGateway(testState)));
}

const statusOf = (call: Promise<unknown>) =>
  call.then(
    () => 200,
    (error) => (error instanceof APIError ? (error.status ?? 0) : -1),
  );
const ask = (replica: RunningGateway, apiKey: string) =>
  statusOf(replica.client({ apiKey }).chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hi" }] }));
const logged = (replica: RunningGateway, text: string) => (replica.stdout() + replica.stderr()).split(text).length - 1;

const keyOnEveryReplica = (secret: string) =>
  Promise.all(
    replicas.map((replica) =>
      waitUntil(async () => (await fetch(`${replica.url}/v1/models`, { headers: { authorization: `Bearer ${secret}` } })).status === 200, {
        what: "the key on every replica",
      }),
    ),
  );

test("Redis killed and restarted under load: no 5xx (limits fall back to each replica), one warning, shared limits resume", async () => {
  await startReplicas(3, "open");
  const load = await createLiveKey(state!, replicas[0]!.url, "load", "--rpm", "100000", "--max-parallel", "100");
  const probe = await createLiveKey(state!, replicas[0]!.url, "probe", "--rpm", "5");
  await keyOnEveryReplica(load.secret);
  await keyOnEveryReplica(probe.secret);

  const statuses: number[] = [];
  let running = true;
  const worker = async (offset: number) => {
    for (let i = offset; running; i++) statuses.push(await ask(replicas[i % 3]!, load.secret));
  };
  const workers = [0, 1, 2, 3].map(worker);
  const atLeast = (n: number) => waitUntil(() => statuses.length >= n, { what: `${n} requests`, timeoutMs: 60_000 });
  const failures = () => statuses.filter((status) => status !== 200);
  try {
    await atLeast(20);
    await redis!.kill();
    await atLeast(statuses.length + 40);
    assert.deepEqual(failures(), [], "every request answered while Redis was down");
    await waitUntil(() => replicas.every((replica) => logged(replica, "is unreachable") > 0), { what: "every replica to warn" });
    await redis!.restart();
    await waitUntil(() => replicas.every((replica) => logged(replica, "answers again") > 0), { what: "every replica to reconnect" });
    await atLeast(statuses.length + 20);
  } finally {
    running = false;
    await Promise.all(workers);
  }
  assert.deepEqual(failures(), [], "every request answered, through the outage and the reconnection");
  // One line per outage, not one per request.
  for (const replica of replicas) assert.equal(logged(replica, "is unreachable"), 1, replica.stdout());
  // Shared again: a fresh bucket of 5 for the whole fleet, not 5 per replica.
  const probes = await Promise.all(Array.from({ length: 15 }, (_, i) => ask(replicas[i % 3]!, probe.secret)));
  assert.equal(probes.filter((status) => status === 200).length, 5, probes.join(","));
  assert.equal(probes.filter((status) => status === 429).length, 10);
});

test('with redisFailMode "closed", keyed requests get 503 while Redis is down and pass again once it is back', async () => {
  await startReplicas(1, "closed");
  const replica = replicas[0]!;
  const key = await createLiveKey(state!, replica.url, "closed", "--rpm", "100000");
  await keyOnEveryReplica(key.secret);
  assert.equal(await ask(replica, key.secret), 200);
  await redis!.kill();
  const refused = await waitUntil(
    () =>
      replica
        .client({ apiKey: key.secret })
        .chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hi" }] })
        .then(
          () => undefined,
          (error: APIError) => error,
        ),
    { what: "a refusal" },
  );
  assert.equal(refused.status, 503);
  assert.equal((refused.error as { code?: string }).code, "limits_unavailable");
  assert.equal(refused.headers?.get("retry-after"), "1");
  // The operator's token takes no key limits: unaffected.
  assert.equal(await ask(replica, GATEWAY_TOKEN), 200);
  await redis!.restart();
  await waitUntil(async () => (await ask(replica, key.secret)) === 200, { what: "keyed requests to pass again" });
});
