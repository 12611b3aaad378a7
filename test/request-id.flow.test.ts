import assert from "node:assert/strict";
import { connect } from "node:net";
import { createTestState, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { GATEWAY_TOKEN, jsonOf, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { ledgerRow } from "./helpers/ledger.js";
import { logFileEntries, waitForRequestLine } from "./helpers/log-file.js";
import { after, before, test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";
import { connectWs } from "./helpers/ws-client.js";

// One id per request, decided when it arrives, and the same everywhere: the response's
// x-request-id, the gateway's log line, the ledger row, the stored turn, error messages.

let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;

const GENERATED = /^req_[0-9a-f]{32}$/;
const auth = { authorization: `Bearer ${GATEWAY_TOKEN}` };
const chatBody = JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hi" }] });

before(async () => {
  chutes = await startFakeChutes();
  state = await createTestState({ CHUTES_API_KEY: "cpk_request_id_test_0123456789" });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: "chutes/zai-org/GLM-4.7-TEE" } } },
  });
  gateway = await startGateway(state);
});
after(async () => {
  await gateway.stop();
  await chutes.close();
  await state.cleanup();
});

const chat = (headers: Record<string, string> = {}) =>
  fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json", ...headers },
    body: chatBody,
  });

test("a client's x-request-id is echoed and is the id of the log line, the ledger row and the stored turn", async () => {
  const id = "client-chosen.id:42";
  const response = await chat({ "x-request-id": id, "x-openclaw-session-key": "request-id-session" });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("x-request-id"), id);
  const line = await waitForRequestLine(state.stateDir, id);
  assert.equal(line.path, "/v1/chat/completions");
  assert.equal(line.status, 200);
  const row = await waitUntil(() => ledgerRow(state.stateDir, id), { what: "the ledger row" });
  assert.equal(row.endpoint, "chat.completions");

  const sessionKey = "request-id-session";
  const shown = await waitUntil(async () => {
    const result = await runCli(state, ["sessions", "show", sessionKey, "--json"]);
    return result.code === 0 ? (JSON.parse(result.stdout) as { turns: Array<{ requestId?: string }> }) : undefined;
  });
  assert.deepEqual(
    shown.turns.map((turn) => turn.requestId),
    [id],
  );
  const text = await runCli(state, ["sessions", "show", sessionKey]);
  assert.match(text.stdout, new RegExp(id.replaceAll(".", "\\.")));
});

test("without one, the gateway makes one up: the same req_ id on the header, the log line and the ledger row", async () => {
  const response = await chat();
  assert.equal(response.status, 200);
  const id = response.headers.get("x-request-id") ?? "";
  assert.match(id, GENERATED);
  await waitForRequestLine(state.stateDir, id);
  assert.ok(await waitUntil(() => ledgerRow(state.stateDir, id), { what: "the ledger row" }));
});

test("an id that is too long, has spaces or is sent twice is replaced by a generated one", async () => {
  for (const sent of ["x".repeat(129), "has spaces", "tab\there"]) {
    const response = await fetch(`${gateway.url}/v1/models`, { headers: { ...auth, "x-request-id": sent } });
    const id = response.headers.get("x-request-id") ?? "";
    assert.match(id, GENERATED, `sent ${JSON.stringify(sent)}`);
    await waitForRequestLine(state.stateDir, id);
    assert.ok(!logFileEntries(state.stateDir).some((entry) => entry.requestId === sent));
  }
  const twice = new Headers(auth);
  twice.append("x-request-id", "first");
  twice.append("x-request-id", "second");
  const response = await fetch(`${gateway.url}/v1/models`, { headers: twice });
  assert.match(response.headers.get("x-request-id") ?? "", GENERATED);
});

test("a request id with CR/LF never reaches the gateway's handler, and the refusal still carries an id", async () => {
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(new URL(gateway.url).port), "127.0.0.1");
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (text: string) => {
      received += text;
    });
    socket.on("close", () => resolve(received));
    socket.on("error", reject);
    socket.write("GET /v1/models HTTP/1.1\r\nhost: x\r\nx-request-id: evil\rinjected: 1\r\n\r\n");
  });
  assert.match(raw, /^HTTP\/1\.1 400/);
  assert.match(raw, /\r\nx-request-id: req_[0-9a-f]{32}\r\n/);
  assert.doesNotMatch(raw, /injected/);
});

test("error responses carry it: 404, 401, /healthz, and a 5xx names it in its message", async () => {
  for (const [path, headers, status] of [
    ["/nope", auth, 404],
    ["/v1/models", {}, 401],
    ["/healthz", {}, 200],
  ] as const) {
    const response = await fetch(`${gateway.url}${path}`, { headers: { ...headers, "x-request-id": `probe-${status}` } });
    assert.equal(response.status, status);
    assert.equal(response.headers.get("x-request-id"), `probe-${status}`);
    await waitForRequestLine(state.stateDir, `probe-${status}`);
  }
  chutes.route("POST /chat/completions", { status: 500, body: { error: { message: "upstream exploded" } } });
  try {
    const response = await chat({ "x-request-id": "failing-call" });
    assert.ok(response.status >= 500, `status ${response.status}`);
    assert.equal(response.headers.get("x-request-id"), "failing-call");
    const body = await jsonOf(response);
    assert.match(body.error.message, /\(request id failing-call\)$/);
    const line = await waitForRequestLine(state.stateDir, "failing-call");
    assert.equal(line.status, response.status);
    // The official SDK reads the header into the error.
    const error = await gateway
      .client()
      .chat.completions.create({ model: "openclaw", messages: [{ role: "user", content: "hi" }] })
      .then(
        () => assert.fail("the call succeeded"),
        (caught: { requestID?: string | null }) => caught,
      );
    assert.match(error.requestID ?? "", GENERATED);
  } finally {
    chutes.routes.delete("POST /chat/completions");
    const fresh = await startFakeChutes();
    chutes.routes.set("POST /chat/completions", fresh.routes.get("POST /chat/completions")!);
    await fresh.close();
  }
});

test("each WebSocket turn has its own id, on its log line and its ledger row, not the upgrade's", async () => {
  const client = await connectWs(gateway.url, { headers: { "x-request-id": "the-upgrade" } });
  try {
    for (let turn = 0; turn < 2; turn++) {
      const events = await client.create({ model: "openclaw", input: "hi" });
      assert.equal(events.at(-1)?.type, "response.completed");
    }
  } finally {
    client.ws.close();
  }
  const lines = await waitUntil(
    () => {
      const found = logFileEntries(state.stateDir).filter((entry) => entry.msg === "websocket response");
      return found.length >= 2 ? found : undefined;
    },
    { what: "two websocket response lines" },
  );
  const ids = lines.map((line) => String(line.requestId));
  assert.equal(new Set(ids).size, 2);
  for (const id of ids) {
    assert.match(id, GENERATED);
    assert.ok(await waitUntil(() => ledgerRow(state.stateDir, id), { what: `the ledger row of ${id}` }));
  }
});
