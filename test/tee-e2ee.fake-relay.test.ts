import assert from "node:assert/strict";
import { encryptRequest } from "../src/providers/chutes/tee/e2ee/encrypt-request.js";
import { type FakeE2eeOptions, startFakeE2ee } from "./helpers/fake-chutes-tee/fake-e2ee.js";
import { after, test } from "./helpers/test.js";

/** The fake relay answers as chutes-api's `api/e2e/router.py` does; later tests rely on these statuses. */
const running: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const fake of running) await fake.close();
});

type Listed = {
  instances: Array<{ instance_id: string; e2e_pubkey: string; nonces: string[] }>;
  nonce_expires_in: number;
  nonce_expires_at: number;
};

async function start(options: FakeE2eeOptions = {}) {
  const fake = await startFakeE2ee(options);
  running.push(fake);
  const list = async (chute = "chute-tee") =>
    (await (await fetch(`${fake.origin}/e2e/instances/${chute}`, { headers: { authorization: "Bearer k" } })).json()) as Listed;
  const invoke = async (instanceId: string, nonce: string, pubkey: string, chute = "chute-tee") => {
    const { body } = await encryptRequest({ model: "m", messages: [] }, pubkey);
    return fetch(`${fake.origin}/e2e/invoke`, {
      method: "POST",
      body,
      headers: {
        authorization: "Bearer k",
        "x-chute-id": chute,
        "x-instance-id": instanceId,
        "x-e2e-nonce": nonce,
        "x-e2e-stream": "false",
        "x-e2e-path": "/v1/chat/completions",
      },
    });
  };
  return { ...fake, list, invoke };
}

test("fake relay: at most 5 instances, 10 nonces each, with their expiry", async () => {
  let clock = 1_800_000_000;
  const fake = await start({ chutes: { "chute-tee": 7 }, now: () => clock });
  const listed = await fake.list();
  assert.equal(listed.instances.length, 5);
  assert.ok(listed.instances.every((instance) => instance.nonces.length === 10 && new Set(instance.nonces).size === 10));
  assert.equal(listed.nonce_expires_in, 60);
  assert.equal(listed.nonce_expires_at, clock + 60);
  const [first] = listed.instances;
  clock += 200;
  assert.equal((await fake.invoke(first!.instance_id, first!.nonces[0]!, first!.e2e_pubkey)).status, 403, "an expired nonce");
});

test("fake relay: a nonce is single-use and belongs to one instance", async () => {
  const fake = await start();
  const [a, b] = (await fake.list()).instances;
  assert.equal((await fake.invoke(b!.instance_id, a!.nonces[0]!, b!.e2e_pubkey)).status, 403, "A's nonce used for B");
  assert.equal((await fake.invoke(a!.instance_id, a!.nonces[0]!, a!.e2e_pubkey)).status, 200, "not consumed by the refusal");
  assert.equal((await fake.invoke(a!.instance_id, a!.nonces[0]!, a!.e2e_pubkey)).status, 403, "replayed");
});

test("fake relay: 404 instance gone from the list, 400 other chute, 410 inactive, 429 at capacity", async () => {
  const fake = await start();
  const [a, b] = (await fake.list()).instances;
  const instanceA = fake.fake.instances.find((instance) => instance.instanceId === a!.instance_id)!;
  const instanceB = fake.fake.instances.find((instance) => instance.instanceId === b!.instance_id)!;
  instanceA.state = "gone";
  assert.equal((await fake.invoke(a!.instance_id, a!.nonces[0]!, a!.e2e_pubkey)).status, 410);
  instanceA.state = "at-capacity";
  assert.equal((await fake.invoke(a!.instance_id, a!.nonces[1]!, a!.e2e_pubkey)).status, 429);
  instanceB.chuteId = "another-chute";
  assert.equal((await fake.invoke(b!.instance_id, b!.nonces[0]!, b!.e2e_pubkey)).status, 400);
  fake.fake.instances.splice(fake.fake.instances.indexOf(instanceB), 1);
  assert.equal((await fake.invoke(b!.instance_id, b!.nonces[1]!, b!.e2e_pubkey)).status, 404);
});

test("fake relay: a body encrypted to another instance's key does not decrypt (400)", async () => {
  const fake = await start();
  const [a, b] = (await fake.list()).instances;
  const refused = await fake.invoke(a!.instance_id, a!.nonces[0]!, b!.e2e_pubkey);
  assert.equal(refused.status, 400);
  assert.match(((await refused.json()) as { detail: string }).detail, /E2E decryption failed/);
  assert.equal(fake.fake.innerRequests.length, 0);
});

test("fake relay: an advertised key swapped to another instance's", async () => {
  const fake = await start();
  const [a, b] = fake.fake.instances;
  a!.advertisedKeyB64 = b!.keys.publicKeyB64;
  const listed = (await fake.list()).instances.find((instance) => instance.instance_id === a!.instanceId)!;
  assert.equal(listed.e2e_pubkey, b!.keys.publicKeyB64);
  assert.equal((await fake.invoke(a!.instanceId, listed.nonces[0]!, listed.e2e_pubkey)).status, 400);
});

test("fake relay: a required API key is checked", async () => {
  const fake = await start({ apiKey: "cpk_right" });
  const wrong = await fetch(`${fake.origin}/e2e/instances/chute-tee`, { headers: { authorization: "Bearer cpk_wrong" } });
  assert.equal(wrong.status, 401);
  const right = await fetch(`${fake.origin}/e2e/instances/chute-tee`, { headers: { authorization: "Bearer cpk_right" } });
  assert.equal(right.status, 200);
});
