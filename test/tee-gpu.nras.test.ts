import assert from "node:assert/strict";
import { createServer } from "node:net";
import { createGpuVerifier, type GpuVerifierOptions } from "../src/providers/chutes/tee/gpu/verify-gpu-evidence.js";
import { fakeGpuEvidence, type NrasTamper, startFakeNras } from "./helpers/fake-chutes-tee/fake-nras.js";
import { after, test } from "./helpers/test.js";

const NONCE = "ab".repeat(32);
const running: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const server of running) await server.close();
});

async function setup(tamper: NrasTamper = {}, options: GpuVerifierOptions = {}) {
  const nras = await startFakeNras(tamper);
  running.push(nras);
  return { nras, verifier: createGpuVerifier({ baseUrl: nras.origin, ...options }) };
}

test("NRAS: every GPU attested passes, and the request is NRAS's v3 shape", async () => {
  const { nras, verifier } = await setup();
  const verdict = await verifier.verify({ nonce: NONCE, evidence: fakeGpuEvidence(NONCE, 2) });
  assert.equal(verdict.ok, true, verdict.detail);
  assert.deepEqual(
    verdict.gpus.map((gpu) => [gpu.id, gpu.ok, gpu.hwmodel]),
    [
      ["GPU-0", true, "GH100 A01 GSP BROM"],
      ["GPU-1", true, "GH100 A01 GSP BROM"],
    ],
  );
  const sent = nras.fake.requests[0]!;
  assert.deepEqual(Object.keys(sent).sort(), ["arch", "claims_version", "evidence_list", "nonce"]);
  assert.equal(sent.nonce, NONCE);
  assert.equal(sent.arch, "HOPPER");
  assert.equal(sent.claims_version, "3.0");
  assert.deepEqual(Object.keys((sent.evidence_list as object[])[0]!).sort(), ["certificate", "evidence"]);
  // The key set is fetched once and reused.
  assert.equal((await verifier.verify({ nonce: NONCE, evidence: fakeGpuEvidence(NONCE, 1) })).ok, true);
  assert.equal(nras.fake.jwksFetches, 1);
});

const refusals: Array<[string, NrasTamper, RegExp]> = [
  ["the overall token carries another nonce", { wrongNonce: "overall" }, /^gpu\.overall\.nonce:/],
  ["a GPU token carries another nonce", { wrongNonce: "gpu" }, /^gpu\[GPU-0\]\.nonce:/],
  ["a GPU's measurements do not match", { failedMeasurement: true }, /^gpu\[GPU-0\]\.measurement: expected success, saw fail/],
  ["a GPU's report signature did not verify", { reportSignatureFailed: true }, /^gpu\[GPU-0\]\.report_signature:/],
  ["a GPU's certificate chain is revoked", { certChainRevoked: true }, /^gpu\[GPU-0\]\.cert_chain:/],
  ["the overall result is false", { overallResult: false }, /^gpu\.overall\.result: expected true, saw false/],
  ["the overall token's signature is broken", { badSignature: "overall" }, /^gpu\.overall\.signature: .*does not verify/],
  ["a GPU token's signature is broken", { badSignature: "gpu" }, /^gpu\[GPU-0\]\.signature: .*does not verify/],
  ["tokens name a kid the key set does not hold", { unknownKid: true }, /^gpu\.overall\.signature: .*no key with kid "no-such-kid"/],
  ["tokens are signed by another key under the service's kid", { foreignKey: true }, /^gpu\.overall\.signature: .*does not verify/],
  ["a GPU submitted is missing from the answer", { dropGpu: true }, /^gpu\.count: expected 2 GPU report\(s\), saw 1/],
  ["the tokens have expired", { expired: true }, /^gpu\.overall\.validity: .*expired/],
  ["the service refuses", { status: 500 }, /^gpu\.verifier: expected HTTP 200, saw HTTP 500/],
];

for (const [name, tamper, detail] of refusals) {
  test(`NRAS refusal: ${name}`, async () => {
    const { verifier } = await setup(tamper);
    const verdict = await verifier.verify({ nonce: NONCE, evidence: fakeGpuEvidence(NONCE, 2) });
    assert.equal(verdict.ok, false);
    assert.match(verdict.detail, detail);
  });
}

test("NRAS refusal: GPU evidence made for another nonce fails the GPUs' nonce match", async () => {
  const { verifier } = await setup({ overallResult: true });
  const verdict = await verifier.verify({ nonce: NONCE, evidence: fakeGpuEvidence("cd".repeat(32), 1) });
  assert.equal(verdict.ok, false);
  assert.match(verdict.detail, /^gpu\[GPU-0\]\.report_nonce_match: expected true, saw false/);
});

test("NRAS refusal: no GPU evidence at all is not a pass", async () => {
  const { nras, verifier } = await setup();
  const verdict = await verifier.verify({ nonce: NONCE, evidence: [] });
  assert.equal(verdict.ok, false);
  assert.match(verdict.detail, /^gpu\.evidence:/);
  assert.equal(nras.fake.requests.length, 0);
});

test("NRAS refusal: a nonce that is not 32 bytes of hex is refused before any call", async () => {
  const { nras, verifier } = await setup();
  const verdict = await verifier.verify({ nonce: "abc", evidence: fakeGpuEvidence("abc") });
  assert.match(verdict.detail, /^gpu\.nonce: expected 64 hex digits/);
  assert.equal(nras.fake.requests.length, 0);
});

test("NRAS refusal: the verifier unreachable", async () => {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
  const verdict = await createGpuVerifier({ baseUrl: `http://127.0.0.1:${port}` }).verify({
    nonce: NONCE,
    evidence: fakeGpuEvidence(NONCE),
  });
  assert.equal(verdict.ok, false);
  assert.match(verdict.detail, /^gpu\.verifier: .*unreachable/);
});

test("NRAS refusal: an answer past the size bound is cut off, not buffered", async () => {
  let pulled = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new Uint8Array(64 * 1024));
    },
  });
  const verifier = createGpuVerifier({
    baseUrl: "http://nras.invalid",
    maxResponseBytes: 256 * 1024,
    fetch: async () => new Response(endless),
  });
  const verdict = await verifier.verify({ nonce: NONCE, evidence: fakeGpuEvidence(NONCE) });
  assert.equal(verdict.ok, false);
  assert.match(verdict.detail, /^gpu\.verifier: .*larger than 262144 bytes/);
  assert.ok(pulled <= 8, `read ${pulled} chunks of an endless answer`);
});

test("NRAS: a pinned root that issued the service's key passes; another pinned root refuses it", async () => {
  const { nras } = await setup();
  const pinned = createGpuVerifier({ baseUrl: nras.origin, pinnedRoots: [nras.fake.root.pem] });
  assert.equal((await pinned.verify({ nonce: NONCE, evidence: fakeGpuEvidence(NONCE) })).ok, true);
  const wrong = createGpuVerifier({ baseUrl: nras.origin, pinnedRoots: [nras.fake.otherRoot.pem] });
  const verdict = await wrong.verify({ nonce: NONCE, evidence: fakeGpuEvidence(NONCE) });
  assert.equal(verdict.ok, false);
  assert.match(verdict.detail, /^gpu\.overall\.signature: .*does not lead to a pinned root/);
});

test("NRAS: concurrent verifications share one key-set fetch", async () => {
  const { nras, verifier } = await setup();
  const verdicts = await Promise.all([1, 2, 3].map(() => verifier.verify({ nonce: NONCE, evidence: fakeGpuEvidence(NONCE) })));
  assert.ok(verdicts.every((verdict) => verdict.ok));
  assert.equal(nras.fake.jwksFetches, 1);
});

test("NRAS: a rotated key is fetched once the refetch interval has passed, not on every unknown kid", async () => {
  let clock = Date.now();
  const { nras, verifier } = await setup({}, { now: () => clock });
  assert.equal((await verifier.verify({ nonce: NONCE, evidence: fakeGpuEvidence(NONCE) })).ok, true);
  await nras.fake.rotateKey();
  for (let i = 0; i < 3; i++) {
    const verdict = await verifier.verify({ nonce: NONCE, evidence: fakeGpuEvidence(NONCE) });
    assert.match(verdict.detail, /no key with kid/);
  }
  assert.equal(nras.fake.jwksFetches, 1);
  clock += 61_000;
  assert.equal((await verifier.verify({ nonce: NONCE, evidence: fakeGpuEvidence(NONCE) })).ok, true);
  assert.equal(nras.fake.jwksFetches, 2);
});
