import assert from "node:assert/strict";
import { runCli, type TestState } from "./helpers/cli.js";
import { completion, type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
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
  databaseUrl = await postgres.createDatabase("keys");
  chutes = await startFakeChutes();
  chutes.route("POST /chat/completions", (request) => ({ body: completion("ok", (request.body as { model: string }).model) }));
  replicas = await startReplicas(3, databaseUrl, chutes, { CHUTES_API_KEY: "cpk_env_key_for_replicas_0000" });
  cli = await replicaState(databaseUrl, chutes);
});
after(async () => {
  await replicas?.stop();
  await cli?.cleanup();
  await chutes?.close();
  await postgres?.destroy();
});

const statusWith = (url: string, secret: string) =>
  fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${secret}` } }).then((response) => response.status);

test("a key created with the CLI on another machine works on all three replicas without a restart, and its revoke reaches them", async () => {
  const created = await runCli(cli, ["keys", "create", "--name", "shared", "--json"]);
  assert.equal(created.code, 0, created.stderr);
  const { secret } = JSON.parse(created.stdout) as { secret: string };
  for (const replica of replicas.gateways) {
    const status = await eventually(
      () => statusWith(replica.url, secret),
      (value) => value === 200,
      5_000,
    );
    assert.equal(status, 200, `${replica.url} never accepted the new key`);
  }
  const revoked = await runCli(cli, ["keys", "revoke", "shared"]);
  assert.equal(revoked.code, 0, revoked.stderr);
  for (const replica of replicas.gateways) {
    const status = await eventually(
      () => statusWith(replica.url, secret),
      (value) => value === 401,
      5_000,
    );
    assert.equal(status, 401, `${replica.url} still accepts the revoked key`);
  }
  // The CLI reads the same table.
  const listed = await runCli(cli, ["keys", "list", "--json"]);
  assert.equal((JSON.parse(listed.stdout) as { keys: Array<{ name: string; revokedAt?: number }> }).keys[0]?.revokedAt !== undefined, true);
});

test("a credential pasted with the CLI is used by all three replicas without a restart, and is not in plaintext in the database", async () => {
  const pasted = "cpk_pasted_on_the_cli_machine_42";
  const result = await runCli(cli, ["models", "auth", "paste-token", "--provider", "chutes"], { input: `${pasted}\n` });
  assert.equal(result.code, 0, result.stderr);
  for (const replica of replicas.gateways) {
    const used = await eventually(
      async () => {
        const before = chutes.requests.length;
        await replica.client().chat.completions.create({ model: "openclaw", messages: [{ role: "user", content: "hi" }] });
        return chutes.requests.slice(before).find((request) => request.path === "/v1/chat/completions")?.headers.authorization;
      },
      (authorization) => authorization === `Bearer ${pasted}`,
      5_000,
    );
    assert.equal(used, `Bearer ${pasted}`, `${replica.url} did not pick up the pasted credential`);
  }
  const rows = await postgres.query<{ kind: string; id: string; nonce: Buffer; sealed: Buffer }>("keys", "SELECT * FROM credentials");
  assert.ok(rows.some((row) => row.kind === "profile" && row.id === "chutes:manual"));
  for (const row of rows) {
    for (const value of Object.values(row)) {
      const bytes = Buffer.isBuffer(value) ? value : Buffer.from(String(value));
      assert.equal(bytes.includes(pasted), false, "the secret is in the database in plaintext");
      assert.equal(bytes.toString("hex").includes(Buffer.from(pasted).toString("hex")), false);
    }
  }
  // Nor anywhere else in the database: every row of every table, as text.
  const tables = await postgres.query<{ table_name: string }>(
    "keys",
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
  );
  for (const { table_name } of tables) {
    const [dump] = await postgres.query<{ text: string | null }>("keys", `SELECT string_agg(t::text, ' ') AS text FROM "${table_name}" t`);
    assert.equal(dump?.text?.includes(pasted) ?? false, false, `the secret is in ${table_name}`);
  }
});
