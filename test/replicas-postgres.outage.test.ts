import assert from "node:assert/strict";
import { completion, type FakeUpstream, startFakeChutes, wordStream } from "./helpers/fake-upstream.js";
import { startGateway } from "./helpers/gateway.js";
import { type Replicas, replicaState, startReplicas } from "./helpers/pg-replicas.js";
import { type PostgresServer, startPostgres } from "./helpers/postgres-server.js";
import { after, before, test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";

let postgres: PostgresServer;
let databaseUrl: string;
let chutes: FakeUpstream;
let replicas: Replicas;

before(async () => {
  postgres = await startPostgres();
  databaseUrl = await postgres.createDatabase("outage");
  chutes = await startFakeChutes();
  chutes.route("POST /chat/completions", (request) => {
    const body = request.body as { stream?: boolean; model: string };
    return body.stream ? { events: wordStream(["a", "b", "c"], body.model) } : { body: completion("ok", body.model) };
  });
  replicas = await startReplicas(3, databaseUrl, chutes, { CHUTES_API_KEY: "cpk_env_key_for_replicas_0000" });
});
after(async () => {
  await replicas?.stop();
  await chutes?.close();
  await postgres?.destroy();
});

const count = async (table: string) => Number((await postgres.query<{ n: string }>("outage", `SELECT count(*) AS n FROM ${table}`))[0]?.n);

test("PostgreSQL stopped for 5 s under load: requests go on, stored responses answer 503, and no turn is lost after recovery", async () => {
  const stored = await replicas.gateways[0]?.client().responses.create({ model: "openclaw", input: "before the outage" });
  let answered = 0;
  let failed = 0;
  let running = true;
  // Four clients spread over the three replicas, each request a named session's turn and a ledger row.
  const load = Array.from({ length: 4 }, async (_, worker) => {
    for (let i = 0; running; i++) {
      const replica = replicas.gateways[(worker + i) % 3];
      try {
        await replica?.client().chat.completions.create({
          model: "openclaw",
          messages: [{ role: "user", content: `turn ${i}` }],
          user: `load-${worker}`,
          stream: i % 2 === 0 ? undefined : false,
        });
        answered++;
      } catch {
        failed++;
      }
    }
  });
  try {
    await outage();
  } finally {
    running = false;
    await Promise.all(load);
  }
  assert.equal(failed, 0, "a request failed because PostgreSQL was down");
  // Each answered request is one turn and one ledger row (plus the stored response's row), once all queues drain.
  await waitUntil(async () => (await count("requests")) >= answered + 1, { what: "the ledger rows", timeoutMs: 20_000 }).catch(
    () => undefined,
  );
  assert.equal(await count("requests"), answered + 1);
  // The stored response had no named session: only the load's requests keep turns.
  assert.equal(await count("turns"), answered);
  const totals = await postgres.query<{ turns: number }>("outage", "SELECT sum(turns)::int AS turns FROM sessions");
  assert.equal(totals[0]?.turns, answered);

  async function outage() {
    await waitUntil(() => answered >= 20, { what: "load before the outage" });
    await postgres.stop();
    const outageStart = Date.now();
    const answeredBefore = answered;
    // Every replica has noticed (its batch failed) and queues in memory.
    await waitUntil(() => replicas.gateways.every((replica) => replica.stdout().includes("PostgreSQL is unreachable")), {
      what: "every replica to notice the outage",
    }).catch((error) => {
      for (const replica of replicas.gateways)
        console.error(
          replica
            .stdout()
            .split("\n")
            .filter((line) => !line.includes(`"msg":"request"`))
            .join("\n"),
          answered,
          failed,
          replica.child.exitCode,
          replica.stderr().slice(-3000),
        );
      throw error;
    });
    const retrieve = await fetch(`${replicas.gateways[1]?.url}/v1/responses/${stored?.id}`, {
      headers: { authorization: `Bearer ${process.env.OPENCLAW_TEST_TOKEN ?? "test-gateway-token-0123456789"}` },
    });
    assert.equal(retrieve.status, 503);
    assert.equal(((await retrieve.json()) as { error: { code: string } }).error.code, "state_unavailable");
    await waitUntil(() => Date.now() - outageStart >= 5_000 && answered >= answeredBefore + 20, {
      what: "five seconds of outage under load",
    });
    await postgres.start();
    await waitUntil(() => replicas.gateways.every((replica) => replica.stdout().includes("PostgreSQL is reachable again")), {
      what: "every replica to reconnect",
    });
    assert.ok(answered - answeredBefore >= 20, "requests went on during the outage");
  }
});

test("past gateway.state.maxQueuedRecords the oldest records are dropped with one log line; the newest are written on recovery", async () => {
  const database = "bounded";
  const url = await postgres.createDatabase(database);
  const state = await replicaState(url, chutes, { CHUTES_API_KEY: "cpk_env_key_for_replicas_0000" }, { state: { maxQueuedRecords: 10 } });
  const gateway = await startGateway(state);
  const rows = async () =>
    Number(
      (await postgres.query<{ n: string }>(database, "SELECT (SELECT count(*) FROM turns) + (SELECT count(*) FROM requests) AS n"))[0]?.n,
    );
  const ask = (i: number) =>
    gateway.client().chat.completions.create({ model: "openclaw", messages: [{ role: "user", content: `q${i}` }], user: "bounded" });
  try {
    await ask(0);
    // Everything so far is written: nothing is in flight when the database goes.
    await waitUntil(async () => (await rows()) === 2, { what: "the first turn and ledger row" });
    await postgres.stop();
    try {
      // 30 requests: 60 records (a turn and a ledger row each) against a bound of 10.
      for (let i = 1; i <= 30; i++) await ask(i);
      await waitUntil(() => gateway.stdout().includes("record queue is full"), { what: "the drop log line" });
    } finally {
      await postgres.start();
    }
    await waitUntil(() => gateway.stdout().includes("PostgreSQL is reachable again"), { what: "the reconnect" });
    await waitUntil(async () => (await rows()) >= 12, { what: "the queued records" }).catch(() => undefined);
    assert.equal(await rows(), 2 + 10, "exactly the bound's worth of records is kept");
    // The newest survive: the last question's turn is there, the first ones of the outage are not.
    const inputs = await postgres.query<{ input: string }>(database, "SELECT input FROM turns ORDER BY at");
    assert.match(inputs.at(-1)?.input ?? "", /q30/);
    assert.equal(
      inputs.some((row) => row.input.includes('"q1"')),
      false,
    );
    const dropLines = gateway
      .stdout()
      .split("\n")
      .filter((line) => line.includes("record queue is full"));
    assert.equal(dropLines.length, 1, "one log line, not one per dropped record");
    assert.equal(JSON.parse(dropLines[0] as string).maxQueuedRecords, 10);
    const recovered = gateway
      .stdout()
      .split("\n")
      .find((line) => line.includes("PostgreSQL is reachable again"));
    assert.equal(JSON.parse(recovered as string).dropped, 50);
  } finally {
    await gateway.stop();
    await state.cleanup();
  }
});
