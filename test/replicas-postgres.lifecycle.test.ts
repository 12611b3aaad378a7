import assert from "node:assert/strict";
import pg from "pg";
import { runCli } from "./helpers/cli.js";
import { completion, type FakeUpstream, startFakeChutes, wordStream } from "./helpers/fake-upstream.js";
import { startGateway } from "./helpers/gateway.js";
import { type Replicas, replicaState } from "./helpers/pg-replicas.js";
import { type PostgresServer, startPostgres } from "./helpers/postgres-server.js";
import { after, before, test } from "./helpers/test.js";
import { eventually, waitUntil } from "./helpers/wait.js";

/** The advisory lock every openclaw process takes to migrate (pg-schema.ts). */
const MIGRATION_LOCK = 0x6f70_636c;

let postgres: PostgresServer;
let databaseUrl: string;
let chutes: FakeUpstream;
const replicas: Replicas = { states: [], gateways: [], stop: async () => undefined };

before(async () => {
  postgres = await startPostgres();
  databaseUrl = await postgres.createDatabase("lifecycle");
  chutes = await startFakeChutes();
  chutes.route("POST /chat/completions", (request) => {
    const body = request.body as { stream?: boolean; model: string; messages: Array<{ content: string }> };
    if (!body.stream) return { body: completion("ok", body.model) };
    const slow = body.messages.some((message) => message.content === "slow");
    return {
      events: wordStream(slow ? Array.from({ length: 50 }, (_, i) => `w${i} `) : ["a", "b"], body.model),
      eventDelayMs: slow ? 100 : 0,
    };
  });
});
after(async () => {
  await Promise.all(replicas.gateways.map((gateway) => gateway.stop()));
  await Promise.all(replicas.states.map((state) => state.cleanup()));
  await chutes?.close();
  await postgres?.destroy();
});

const env = { CHUTES_API_KEY: "cpk_env_key_for_replicas_0000" };

test("two replicas starting together against an empty database wait for the migration lock and migrate once", async () => {
  // Hold the lock: both replicas must queue behind it rather than create tables side by side.
  const holder = new pg.Client({ connectionString: databaseUrl });
  await holder.connect();
  await holder.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
  const states = await Promise.all([replicaState(databaseUrl, chutes, env), replicaState(databaseUrl, chutes, env)]);
  replicas.states.push(...states);
  const starting = states.map((state) => startGateway(state));
  try {
    await waitUntil(
      async () => {
        const rows = await postgres.query<{ n: number }>(
          "lifecycle",
          "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND NOT granted",
          [MIGRATION_LOCK],
        );
        return rows[0]?.n === 2;
      },
      { what: "both replicas to wait for the migration lock" },
    );
  } finally {
    await holder.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]);
    await holder.end();
  }
  const started = await Promise.all(starting);
  replicas.gateways.push(...started);
  const migrated = started.filter((gateway) => /schema migrated v0 → v1/.test(gateway.stderr()));
  assert.equal(migrated.length, 1, "exactly one replica applies the migrations");
  const versions = await postgres.query<{ version: number }>("lifecycle", "SELECT version FROM openclaw_schema ORDER BY version");
  assert.deepEqual(
    versions.map((row) => row.version),
    [1],
  );
  for (const gateway of started) {
    const answer = await gateway.client().chat.completions.create({ model: "openclaw", messages: [{ role: "user", content: "hi" }] });
    assert.equal(answer.choices[0]?.message.content, "ok");
  }
});

test("one replica killed with kill -9 mid-stream: the others keep serving, and what they record still lands", async () => {
  const third = await replicaState(databaseUrl, chutes, env);
  replicas.states.push(third);
  replicas.gateways.push(await startGateway(third));
  const [victim, ...others] = replicas.gateways;
  assert.ok(victim && others.length === 2);
  const stream = await victim.client().chat.completions.create({
    model: "openclaw",
    messages: [{ role: "user", content: "slow" }],
    stream: true,
    user: "victim",
  });
  let received = 0;
  const reading = (async () => {
    for await (const _chunk of stream) {
      received++;
      if (received === 3) victim.child.kill("SIGKILL");
    }
  })();
  await assert.rejects(reading);
  assert.equal(await victim.exited, null);
  for (const [index, gateway] of others.entries()) {
    const streamed = await gateway.client().chat.completions.create({
      model: "openclaw",
      messages: [{ role: "user", content: "after" }],
      stream: true,
      user: `survivor-${index}`,
    });
    let text = "";
    for await (const chunk of streamed) text += chunk.choices[0]?.delta?.content ?? "";
    assert.equal(text, "ab");
  }
  const sessions = await eventually(
    () => postgres.query<{ key: string }>("lifecycle", "SELECT key FROM sessions WHERE key LIKE '%survivor-%'"),
    (rows) => rows.length === 2,
  );
  assert.equal(sessions.length, 2);
  // A change through the shared store still reaches the survivors (their LISTEN connections are their own).
  const created = await runCli(third, ["keys", "create", "--name", "after-kill", "--json"]);
  assert.equal(created.code, 0, created.stderr);
  const { secret } = JSON.parse(created.stdout) as { secret: string };
  for (const gateway of others) {
    const status = await eventually(
      () => fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${secret}` } }).then((response) => response.status),
      (value) => value === 200,
      5_000,
    );
    assert.equal(status, 200);
  }
});
