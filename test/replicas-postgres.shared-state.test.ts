import assert from "node:assert/strict";
import { runCli, type TestState } from "./helpers/cli.js";
import { completion, type FakeUpstream, startFakeChutes, wordStream } from "./helpers/fake-upstream.js";
import { type Replicas, replicaState, startReplicas } from "./helpers/pg-replicas.js";
import { type PostgresServer, startPostgres } from "./helpers/postgres-server.js";
import { after, before, test } from "./helpers/test.js";
import { eventually } from "./helpers/wait.js";

let postgres: PostgresServer;
let databaseUrl: string;
let chutes: FakeUpstream;
let replicas: Replicas;
/** A fourth machine that only runs the CLI. */
let cli: TestState;

before(async () => {
  postgres = await startPostgres();
  databaseUrl = await postgres.createDatabase("shared");
  chutes = await startFakeChutes();
  chutes.route("POST /chat/completions", (request) => {
    const body = request.body as { stream?: boolean; model: string };
    return body.stream ? { events: wordStream(["Hello", " there"], body.model) } : { body: completion("Hello there", body.model) };
  });
  replicas = await startReplicas(3, databaseUrl, chutes, { CHUTES_API_KEY: "cpk_env_key_for_replicas_0000" });
  cli = await replicaState(databaseUrl, chutes);
});
after(async () => {
  await replicas?.stop();
  await cli?.cleanup();
  await chutes?.close();
  await postgres?.destroy();
});

const gateway = (index: number) => replicas.gateways[index] as Replicas["gateways"][number];

test("each replica names its PostgreSQL backend at start, password redacted", () => {
  for (const replica of replicas.gateways) {
    assert.match(replica.stderr(), /state: +PostgreSQL postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/shared/);
    assert.doesNotMatch(replica.stderr(), /not-a-real-password/);
  }
});

test("a response created on replica 1 is continued on replica 2 and retrieved on replica 3", async () => {
  const first = await gateway(0).client().responses.create({ model: "openclaw", input: "Remember the word: tangerine." });
  const second = await gateway(1).client().responses.create({ model: "openclaw", input: "Which word?", previous_response_id: first.id });
  // Replica 2 sent replica 1's conversation upstream: it found the stored response in PostgreSQL.
  const sent = chutes.requests.filter((request) => request.path === "/v1/chat/completions").at(-1)?.body as {
    messages: Array<{ role: string; content: string }>;
  };
  assert.deepEqual(
    sent.messages.map((message) => [message.role, message.content]),
    [
      ["user", "Remember the word: tangerine."],
      ["assistant", "Hello there"],
      ["user", "Which word?"],
    ],
  );
  const retrieved = await gateway(2).client().responses.retrieve(second.id);
  assert.equal(retrieved.id, second.id);
  assert.equal(retrieved.output_text, "Hello there");
});

test("sessions and usage from all three replicas appear in one `sessions list` and `usage`", async () => {
  for (const [index, replica] of replicas.gateways.entries()) {
    await replica.client().chat.completions.create({
      model: "openclaw",
      messages: [{ role: "user", content: `hi from ${index}` }],
      user: `replica-${index}`,
    });
  }
  const keys = ["replica-0", "replica-1", "replica-2"].map((user) => `agent:main:openai-user:${user}`);
  const listed = await eventually(
    async () => {
      const result = await runCli(cli, ["sessions", "list", "--json"]);
      assert.equal(result.code, 0, result.stderr);
      return (JSON.parse(result.stdout) as { sessions: Array<{ key: string; turns: number }> }).sessions;
    },
    (sessions) => keys.every((key) => sessions.some((session) => session.key === key)),
  );
  for (const key of keys) assert.equal(listed.find((session) => session.key === key)?.turns, 1, key);

  const shown = await runCli(cli, ["sessions", "show", keys[2] as string, "--json"]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.equal(JSON.parse(shown.stdout).turns[0].input[0].content, "hi from 2");

  // Every request any replica answered is in the one ledger (3 here plus the earlier tests').
  const answered = chutes.requests.filter((request) => request.path === "/v1/chat/completions").length;
  const usage = await eventually(
    async () => {
      const result = await runCli(cli, ["usage", "--by", "model", "--json"]);
      assert.equal(result.code, 0, result.stderr);
      return JSON.parse(result.stdout) as { rows: Array<{ group: string; requests: number }> };
    },
    (value) => value.rows.reduce((sum, row) => sum + row.requests, 0) === answered,
  );
  assert.equal(
    usage.rows.reduce((sum, row) => sum + row.requests, 0),
    answered,
  );
});

test("`openclaw gateway status` on a replica's machine checks that PostgreSQL answers", async () => {
  const state = replicas.states[0] as TestState;
  const result = await runCli(state, ["gateway", "status", "--json"]);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const status = JSON.parse(result.stdout) as { running: boolean; postgres: { ok: boolean; detail: string; url: string } };
  assert.equal(status.running, true);
  assert.equal(status.postgres.ok, true);
  assert.equal(status.postgres.detail, "schema v1");
  assert.doesNotMatch(status.postgres.url, /not-a-real-password/);
  // A database that does not answer is named, and the exit code says so.
  const down = await runCli(state, ["gateway", "status"], { env: { OPENCLAW_DATABASE_URL: "postgres://u:secret@127.0.0.1:1/none" } });
  assert.equal(down.code, 1);
  assert.match(down.stdout, /postgres: not answering: ECONNREFUSED postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/none/);
});
