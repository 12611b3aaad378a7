import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { createTestState, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeTeeStack, STACK_MODEL, startFakeTeeStack } from "./helpers/fake-chutes-tee/tee-stack.js";
import { GATEWAY_TOKEN, startGateway } from "./helpers/gateway.js";
import { after, before, test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";

/** The gateway's own verdicts (made on real E2EE traffic) reach `<state>/tee/attestations.json`, not only `tee verify`'s. */
let stack: FakeTeeStack;
let state: TestState;
const REF = `chutes/${STACK_MODEL}`;

before(async () => {
  stack = await startFakeTeeStack();
  state = await createTestState({ CHUTES_API_KEY: stack.fleet.credential });
  await writeConfig(state, {
    models: { providers: { chutes: stack.providerConfig() } },
    agents: { defaults: { model: { primary: REF } } },
  });
});
after(async () => {
  await stack.close();
  await state.cleanup();
});

const verdictFile = () => path.join(state.stateDir, "tee", "attestations.json");
async function storedVerdict(): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await readFile(verdictFile(), "utf8")).verdicts[REF];
  } catch {
    return undefined;
  }
}

const chat = (url: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ model: REF, messages: [{ role: "user", content: "hello" }] }),
  });

test("an E2EE chat through the gateway records its verdict: models list, models status and /v1/models say attested, with when", async () => {
  const gateway = await startGateway(state);
  try {
    const response = await chat(gateway.url);
    assert.equal(response.status, 200, await response.clone().text());
    await response.arrayBuffer();
    const verdict = await waitUntil(storedVerdict, { what: "the gateway's verdict in attestations.json" });
    assert.equal(verdict.ok, true);
    assert.equal(verdict.attestedInstances, 2);
    assert.ok(Math.abs(Number(verdict.verifiedAt) - Date.now()) < 3_600_000);
    assert.equal((await stat(verdictFile())).mode & 0o777, 0o600);

    const listed = await runCli(state, ["models", "list", "--json", "--provider", "chutes"]);
    assert.equal(listed.code, 0, listed.stderr);
    const model = JSON.parse(listed.stdout).models.find((entry: { ref: string }) => entry.ref === REF);
    assert.equal(model.tee.status, "attested");
    assert.equal(model.tee.verifiedAt, new Date(Number(verdict.verifiedAt)).toISOString());

    const status = await runCli(state, ["models", "status"]);
    assert.match(status.stdout, /TEE models: 1 declared; 1 attested, 0 refused \(last verified /);

    const models = await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${GATEWAY_TOKEN}` } });
    const entry = ((await models.json()) as { data: Array<{ id: string; tee_status?: string }> }).data.find((m) => m.id === REF);
    assert.equal(entry?.tee_status, "attested");
  } finally {
    await gateway.stop();
  }
});

test("a refusal on real traffic is recorded too (refused, naming the check), replacing the earlier pass", async () => {
  for (const id of ["inst-1", "inst-2"]) stack.fleet.tee.tamper.set(id, { unlistedRtmr3: true });
  const gateway = await startGateway(state);
  try {
    const response = await chat(gateway.url);
    assert.equal(response.status, 502);
    await response.arrayBuffer();
    const verdict = await waitUntil(async () => {
      const stored = await storedVerdict();
      return stored?.ok === false ? stored : undefined;
    });
    assert.match(String(verdict.failure), /measurements/);
    const listed = await runCli(state, ["models", "list", "--json", "--provider", "chutes"]);
    const model = JSON.parse(listed.stdout).models.find((entry: { ref: string }) => entry.ref === REF);
    assert.equal(model.tee.status, "refused");
  } finally {
    stack.fleet.tee.tamper.clear();
    await gateway.stop();
  }
});
