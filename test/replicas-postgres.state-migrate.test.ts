import assert from "node:assert/strict";
import { createTestState, isOneLineError, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { completion, type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { startGateway } from "./helpers/gateway.js";
import { replicaState, STATE_KEY } from "./helpers/pg-replicas.js";
import { type PostgresServer, startPostgres } from "./helpers/postgres-server.js";
import { after, before, test } from "./helpers/test.js";

let postgres: PostgresServer;
let databaseUrl: string;
let chutes: FakeUpstream;
/** A single machine that ran a gateway on SQLite, as before replicas. */
let single: TestState;
let responseId: string;
let keySecret: string;
const TABLES = ["sessions", "turns", "responses", "requests", "key_spend", "api_keys", "credentials"];

before(async () => {
  postgres = await startPostgres();
  databaseUrl = await postgres.createDatabase("migrated");
  chutes = await startFakeChutes();
  chutes.route("POST /chat/completions", (request) => ({ body: completion("ok", (request.body as { model: string }).model) }));
  single = await createTestState();
  await writeConfig(single, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: "chutes/Qwen/Qwen3-32B-TEE" } } },
  });
  const pasted = await runCli(single, ["models", "auth", "paste-token", "--provider", "chutes"], {
    input: "cpk_single_machine_key_0000\n",
  });
  assert.equal(pasted.code, 0, pasted.stderr);
  const key = await runCli(single, ["keys", "create", "--name", "team", "--json"]);
  assert.equal(key.code, 0, key.stderr);
  keySecret = (JSON.parse(key.stdout) as { secret: string }).secret;
  const gateway = await startGateway(single);
  const client = gateway.client();
  for (const user of ["alice", "bob"])
    await client.chat.completions.create({ model: "openclaw", messages: [{ role: "user", content: `hi ${user}` }], user });
  await gateway.client({ apiKey: keySecret }).chat.completions.create({ model: "openclaw", messages: [{ role: "user", content: "k" }] });
  responseId = (await client.responses.create({ model: "openclaw", input: "keep me" })).id;
  assert.equal(await gateway.stop(), 0);
});
after(async () => {
  await single?.cleanup();
  await chutes?.close();
  await postgres?.destroy();
});

/** Every row of the tables state migrate writes, as text (ids and all). */
async function snapshot(): Promise<Record<string, string[]>> {
  const tables: Record<string, string[]> = {};
  for (const table of TABLES)
    tables[table] = (await postgres.query<{ row: string }>("migrated", `SELECT t::text AS row FROM ${table} t ORDER BY 1`)).map(
      (row) => row.row,
    );
  return tables;
}

test("state migrate without a credentials key refuses in one line and writes nothing", async () => {
  const result = await runCli(single, ["state", "migrate", "--to", databaseUrl]);
  assert.notEqual(result.code, 0);
  assert.ok(isOneLineError(result.stderr), result.stderr);
  assert.match(result.stderr, /OPENCLAW_STATE_KEY/);
  assert.doesNotMatch(result.stderr, /not-a-real-password/);
  const tables = await postgres.query("migrated", "SELECT 1 FROM information_schema.tables WHERE table_name = 'turns'");
  assert.equal(tables.length, 0);
});

test("state migrate moves a real gateway's SQLite state, keys and credentials; a second run changes nothing", async () => {
  const env = { OPENCLAW_STATE_KEY: STATE_KEY };
  const first = await runCli(single, ["state", "migrate", "--to", databaseUrl, "--json"], { env });
  assert.equal(first.code, 0, first.stderr);
  const report = JSON.parse(first.stdout) as { moved: Record<string, number>; skipped: Record<string, number>; to: string };
  assert.deepEqual(report.moved, { turns: 2, responses: 1, requests: 4, keys: 1, credentials: 1 });
  assert.doesNotMatch(report.to, /not-a-real-password/);
  const sessions = await postgres.query<{ key: string; turns: number }>("migrated", "SELECT key, turns FROM sessions ORDER BY key");
  // The named sessions' turns (the key's and the stored response's requests had no session name).
  assert.deepEqual(
    sessions.map((row) => [row.key, row.turns]),
    [
      ["agent:main:openai-user:alice", 1],
      ["agent:main:openai-user:bob", 1],
    ],
  );
  const before = await snapshot();

  const second = await runCli(single, ["state", "migrate", "--to", databaseUrl], { env });
  assert.equal(second.code, 0, second.stderr);
  assert.match(
    second.stdout,
    /^Moved to postgres:\/\/postgres:\*\*\*@[^:]+:\d+\/migrated: 0 turns, 0 responses, 0 usage rows, 0 keys, 0 credentials \(9 already there, skipped\)\n$/,
  );
  assert.deepEqual(await snapshot(), before);

  // A replica on PostgreSQL now serves what the single machine had: its stored response, its key, its credential.
  const replica = await replicaState(databaseUrl, chutes);
  const gateway = await startGateway(replica);
  try {
    const retrieved = await gateway.client().responses.retrieve(responseId);
    assert.equal(retrieved.output_text, "ok");
    const before = chutes.requests.length;
    await gateway.client({ apiKey: keySecret }).chat.completions.create({ model: "openclaw", messages: [{ role: "user", content: "x" }] });
    assert.equal(chutes.requests.slice(before).at(-1)?.headers.authorization, "Bearer cpk_single_machine_key_0000");
  } finally {
    await gateway.stop();
    await replica.cleanup();
  }
});
