import assert from "node:assert/strict";
import { APIError } from "openai";
import { runCli, type TestState } from "./helpers/cli.js";
import { completion, type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { type Replicas, replicaState, startReplicas } from "./helpers/pg-replicas.js";
import { type PostgresServer, startPostgres } from "./helpers/postgres-server.js";
import { type RedisServer, startRedisServer } from "./helpers/redis-server.js";
import { after, before, test } from "./helpers/test.js";
import { eventually, waitUntil } from "./helpers/wait.js";

// The whole deployment: three machines (nothing shared on disk) on one Redis and one PostgreSQL,
// and a fourth that only runs the CLI. Keys come from PostgreSQL, their limits are counted in Redis.
let redis: RedisServer;
let postgres: PostgresServer;
let chutes: FakeUpstream;
let replicas: Replicas;
let cli: TestState;

before(async () => {
  [redis, postgres, chutes] = await Promise.all([startRedisServer(), startPostgres(), startFakeChutes()]);
  const databaseUrl = await postgres.createDatabase("deployment");
  chutes.route("POST /chat/completions", (request) => ({ body: completion("Hello there", (request.body as { model: string }).model) }));
  const env = { OPENCLAW_REDIS_URL: redis.url, CHUTES_API_KEY: "cpk_env_key_for_replicas_0000" };
  replicas = await startReplicas(3, databaseUrl, chutes, env);
  cli = await replicaState(databaseUrl, chutes, env);
});
after(async () => {
  await replicas?.stop();
  await cli?.cleanup();
  await chutes?.close();
  await redis?.stop();
  await postgres?.destroy();
});

const gateway = (index: number) => replicas.gateways[index % 3] as Replicas["gateways"][number];

test("each replica names both backends at start", () => {
  for (const replica of replicas.gateways) {
    assert.match(replica.stderr(), /state: +PostgreSQL postgres:\/\/postgres:\*\*\*@127\.0\.0\.1/);
    assert.match(replica.stderr(), /shared state: +Redis redis:\/\/127\.0\.0\.1/);
  }
});

test("a key created on a fourth machine with --rpm 10 gets exactly 10 of 30 requests spread over the three, and its usage is one total", async () => {
  const created = await runCli(cli, ["keys", "create", "--name", "team", "--rpm", "10", "--json"]);
  assert.equal(created.code, 0, created.stderr);
  const { secret, key } = JSON.parse(created.stdout) as { secret: string; key: { id: string } };
  // Every replica learns of the key through PostgreSQL (NOTIFY), without a restart.
  for (const replica of replicas.gateways)
    await waitUntil(() => replica.stdout().includes("API keys reloaded"), { what: "the key on every replica" });
  const started = performance.now();
  const statuses = await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      gateway(i)
        .client({ apiKey: secret })
        .chat.completions.create({ model: "openclaw", messages: [{ role: "user", content: `hi ${i}` }] })
        .then(
          () => 200,
          (error) => (error instanceof APIError ? (error.status ?? 0) : -1),
        ),
    ),
  );
  const elapsedMs = performance.now() - started;
  const admitted = statuses.filter((status) => status === 200).length;
  assert.deepEqual(
    statuses.filter((status) => status !== 200 && status !== 429),
    [],
  );
  // The bucket refills one request per 6 s: whatever this run's pace, that is all that may add.
  const refilled = Math.floor((elapsedMs * 10) / 60_000);
  assert.ok(admitted >= 10 && admitted <= 10 + refilled, `admitted ${admitted} of 30 in ${Math.round(elapsedMs)} ms`);
  // The ledger rows of all three replicas, summed where they live.
  const usage = await eventually(
    async () => {
      const result = await runCli(cli, ["usage", "--by", "key", "--json"]);
      assert.equal(result.code, 0, result.stderr);
      const rows = (JSON.parse(result.stdout) as { rows: Array<{ group: string | null; requests: number; errors: number }> }).rows;
      return rows.find((row) => row.group === key.id);
    },
    (row) => row !== undefined && row.requests - row.errors === admitted,
  );
  assert.equal((usage?.requests ?? 0) - (usage?.errors ?? 0), admitted);
});

test("a response created on replica 1 is continued on replica 2 and retrieved on replica 3", async () => {
  const first = await gateway(0).client().responses.create({ model: "openclaw", input: "Remember the word: tangerine." });
  const second = await gateway(1).client().responses.create({ model: "openclaw", input: "Which word?", previous_response_id: first.id });
  const retrieved = await gateway(2).client().responses.retrieve(second.id);
  assert.equal(retrieved.id, second.id);
  assert.equal(retrieved.previous_response_id, first.id);
});
