import assert from "node:assert/strict";
import { APIError } from "openai";
import { createTestState, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { completion, type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { GATEWAY_TOKEN, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { type RedisServer, startRedisServer } from "./helpers/redis-server.js";
import { after, before, test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";

// Three gateway processes (one state dir, as replicas on one machine would share keys.json)
// against one real redis-server: what one replica counts, the others enforce.
const PRIMARY = "chutes/zai-org/GLM-5.1-TEE";
const FALLBACK = "chutes/Qwen/Qwen3-32B-TEE";

let redis: RedisServer;
let chutes: FakeUpstream;
let state: TestState;
let replicas: RunningGateway[];

before(async () => {
  redis = await startRedisServer();
  chutes = await startFakeChutes();
  state = await createTestState({ CHUTES_API_KEY: "cpk_replicas_redis_000000000000", TEST_REDIS_URL: redis.url });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: PRIMARY, fallbacks: [FALLBACK] } } },
    gateway: {
      // `${VAR}` in the URL, as a deployment would keep a password out of the file.
      state: { redis: "${TEST_REDIS_URL}" },
      routing: { retries: 0, cooldownFailures: 1, cooldownSeconds: 600 },
      auth: { rateLimit: { maxAttempts: 3, windowMs: 600_000, lockoutMs: 600_000, exemptLoopback: false } },
    },
  });
  replicas = await Promise.all([startGateway(state), startGateway(state), startGateway(state)]);
});
after(async () => {
  await Promise.all(replicas.map((replica) => replica.stop()));
  await chutes.close();
  await redis.stop();
  await state.cleanup();
});

const ask = (replica: RunningGateway, apiKey: string, model = PRIMARY) =>
  replica.client({ apiKey }).chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] });

const statusOf = (call: Promise<unknown>) =>
  call.then(
    () => 200,
    (error) => (error instanceof APIError ? (error.status ?? 0) : -1),
  );

test("each replica names its Redis backend at start", () => {
  for (const replica of replicas)
    assert.match(replica.stderr(), new RegExp(`shared state:\\s+Redis redis://127\\.0\\.0\\.1:${redis.port}`));
});

test("a key with --rpm 10 gets exactly 10 of 30 requests spread over three replicas", async () => {
  chutes.route("POST /chat/completions", (request) => ({ body: completion("ok", (request.body as { model: string }).model) }));
  const created = await runCli(state, ["keys", "create", "--name", "shared-rpm", "--rpm", "10", "--json"]);
  assert.equal(created.code, 0, created.stderr);
  const secret = (JSON.parse(created.stdout) as { secret: string }).secret;
  // Every replica has loaded the new key (its file watcher logs it). Not probed with the key: an
  // unknown key is a failed authentication, which this file's lockout policy counts.
  for (const replica of replicas)
    await waitUntil(() => replica.stdout().includes("API keys reloaded"), { what: "the key on every replica" });
  const started = performance.now();
  const statuses = await Promise.all(Array.from({ length: 30 }, (_, i) => statusOf(ask(replicas[i % 3]!, secret, FALLBACK))));
  const elapsedMs = performance.now() - started;
  const admitted = statuses.filter((status) => status === 200).length;
  assert.deepEqual(
    statuses.filter((status) => status !== 200 && status !== 429),
    [],
  );
  // The bucket refills one request per 6 s: whatever this run's pace, that is all that may add.
  const refilled = Math.floor((elapsedMs * 10) / 60_000);
  assert.ok(admitted >= 10 && admitted <= 10 + refilled, `admitted ${admitted} of 30 in ${Math.round(elapsedMs)} ms`);
});

test("a model cooled down on replica 1 is skipped on replica 2", async () => {
  const primaryModel = PRIMARY.slice("chutes/".length);
  chutes.route("POST /chat/completions", (request) => {
    const model = (request.body as { model: string }).model;
    return model === primaryModel ? { status: 500, body: { error: { message: "boom" } } } : { body: completion("ok", model) };
  });
  chutes.requests.length = 0;
  const first = await ask(replicas[0]!, GATEWAY_TOKEN);
  assert.equal(first.choices[0]?.message.content, "ok");
  assert.equal(chutes.requests.filter((request) => (request.body as { model: string }).model === primaryModel).length, 1);
  // The cooldown is in force in Redis (the same script announces it to every replica).
  await waitUntil(async () => /\$\d+\r\n\d+/.test(await redis.command("ZSCORE", "openclaw:cooldown:until", PRIMARY)), {
    what: "the cooldown in Redis",
  });
  chutes.requests.length = 0;
  const second = await ask(replicas[1]!, GATEWAY_TOKEN);
  assert.equal(second.choices[0]?.message.content, "ok");
  assert.deepEqual(
    chutes.requests.map((request) => (request.body as { model: string }).model),
    [FALLBACK.slice("chutes/".length)],
    "replica 2 went straight to the fallback",
  );
});

// Last: it locks every loopback client out of all three replicas.
test("failures counted across replicas lock the client out, and the lockout holds on every replica", async () => {
  const wrong = (replica: RunningGateway) => statusOf(ask(replica, "not-the-gateway-token"));
  // Two failures on replica 1 and one on replica 2: three in all, the limit.
  assert.equal(await wrong(replicas[0]!), 401);
  assert.equal(await wrong(replicas[0]!), 401);
  assert.equal(await wrong(replicas[1]!), 401);
  // Replica 3 never saw a failure; with the right token it refuses all the same.
  await waitUntil(async () => (await statusOf(replicas[2]!.client().models.list())) === 429, { what: "the lockout on replica 3" });
  for (const replica of replicas) {
    const error = await replica
      .client()
      .models.list()
      .then(
        () => undefined,
        (caught: APIError) => caught,
      );
    assert.equal(error?.status, 429);
    assert.equal((error?.error as { code?: string } | undefined)?.code, "auth_rate_limited");
  }
});
