import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { GATEWAY_TOKEN, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { after, afterEach, before, beforeEach, test } from "./helpers/test.js";

let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway | undefined;

before(async () => {
  chutes = await startFakeChutes();
});
after(() => chutes.close());
beforeEach(async () => {
  state = await createTestState({ CHUTES_API_KEY: "cpk_lockout_test_key_00000000" });
});
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
  await state.cleanup();
});

async function start(rateLimit: Record<string, unknown>, args: string[] = ["--enable-endpoints"]) {
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    gateway: { auth: { rateLimit: { maxAttempts: 3, windowMs: 60_000, lockoutMs: 60_000, ...rateLimit } } },
  });
  gateway = await startGateway(state, args);
  return Number(new URL(gateway.url).port);
}

/** GET /v1/models from a chosen local address to a chosen host; resolves with the status. */
function listModels(port: number, options: { host?: string; localAddress?: string; token: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        host: options.host ?? "127.0.0.1",
        port,
        path: "/v1/models",
        headers: { authorization: `Bearer ${options.token}`, connection: "close" },
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      },
      (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode ?? 0));
      },
    );
    outgoing.on("error", reject);
    outgoing.end();
  });
}

test("rotating through 127.0.0.0/8 does not multiply guesses: loopback is one client", async () => {
  const port = await start({});
  for (const localAddress of ["127.0.0.2", "127.0.0.3", "127.0.0.4"])
    assert.equal(await listModels(port, { localAddress, token: "wrong" }), 401);
  assert.equal(await listModels(port, { localAddress: "127.0.0.5", token: "wrong-again" }), 429);
  assert.equal(await listModels(port, { localAddress: "127.0.0.6", token: GATEWAY_TOKEN }), 429, "locked, even with the right token");
});

test("::ffff:127.0.0.1 and ::1 share one lockout", async () => {
  const port = await start({}, ["--enable-endpoints", "--bind", "::"]);
  for (let i = 0; i < 3; i++) assert.equal(await listModels(port, { host: "127.0.0.1", token: "wrong" }), 401);
  assert.equal(await listModels(port, { host: "::1", token: GATEWAY_TOKEN }), 429);
});

test("with exemptLoopback the operator on this machine is never locked out", async () => {
  const port = await start({ exemptLoopback: true });
  for (let i = 0; i < 6; i++) assert.equal(await listModels(port, { token: "wrong" }), 401);
  assert.equal(await listModels(port, { token: GATEWAY_TOKEN }), 200);
});
