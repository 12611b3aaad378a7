import { randomUUID, sign, webcrypto } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { serveFakes } from "./fake-e2ee.js";
import { type IssuedCert, testLeaf, testRoot } from "./test-ca.js";

/**
 * A stand-in for NVIDIA's remote attestation service (nvtrust `attest_gpu_remote.py`,
 * `nras_utils.py`): `POST /v3/attest/gpu` answers `[["JWT", overall], {"GPU-n": detached}]`,
 * ES384-signed by a key published at `/.well-known/jwks.json` with its `x5c` chain. Its GPU
 * "evidence" is what `fakeGpuEvidence` writes: the nonce the GPU signed, so the nonce-match claim
 * is computed, not assumed.
 */
export interface NrasTamper {
  /** `eat_nonce` in the overall token (or a GPU's) is not the request's nonce. */
  wrongNonce?: "overall" | "gpu";
  /** GPU-0's `measres` is "fail" while the overall result still says true. */
  failedMeasurement?: boolean;
  /** GPU-0's report signature did not verify, the overall result still true. */
  reportSignatureFailed?: boolean;
  /** GPU-0's certificate chain is revoked. */
  certChainRevoked?: boolean;
  overallResult?: boolean;
  /** The overall (or GPU-0's) token signature is broken. */
  badSignature?: "overall" | "gpu";
  /** Tokens name a key the JWKS does not hold. */
  unknownKid?: boolean;
  /** Tokens are signed by a key that is not the JWKS's, under its kid. */
  foreignKey?: boolean;
  /** One GPU submitted is missing from the answer. */
  dropGpu?: boolean;
  expired?: boolean;
  /** Answer with this status and no tokens. */
  status?: number;
}

export interface FakeNras {
  handle(request: IncomingMessage, response: ServerResponse): Promise<boolean>;
  requests: Array<Record<string, unknown>>;
  jwksFetches: number;
  tamper: NrasTamper;
  /** The root that issued the signing certificate: a pinned anchor that works. */
  root: IssuedCert;
  /** Another root: pinned, it refuses the service's keys. */
  otherRoot: IssuedCert;
  kid: string;
  /** Sign with a new key under a new kid from now on (the key set serves only the new one). */
  rotateKey(): Promise<void>;
}

export interface FakeGpuEvidenceItem {
  evidence: string;
  certificate: string;
  arch: string;
}

/** GPU evidence for `count` GPUs that signed `nonce` (hex). */
export function fakeGpuEvidence(nonce: string, count = 1, arch = "HOPPER"): FakeGpuEvidenceItem[] {
  return Array.from({ length: count }, (_, gpu) => ({
    evidence: Buffer.from(JSON.stringify({ fakeGpuReport: true, gpu, nonce })).toString("base64"),
    certificate: Buffer.from(`-----BEGIN CERTIFICATE-----\nfake GPU ${gpu} device chain\n-----END CERTIFICATE-----\n`).toString("base64"),
    arch,
  }));
}

const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

export async function createFakeNras(tamper: NrasTamper = {}): Promise<FakeNras> {
  const root = await testRoot("Fake NRAS Root");
  const otherRoot = await testRoot("Some Other Root");
  let signer = await testLeaf("Fake NRAS Signer", root);
  const foreign = await testLeaf("Not NRAS", otherRoot);
  let publicJwk = (await webcrypto.subtle.exportKey("jwk", signer.keys.publicKey)) as Record<string, unknown>;
  const rotateKey = async () => {
    signer = await testLeaf("Fake NRAS Signer (rotated)", root);
    publicJwk = (await webcrypto.subtle.exportKey("jwk", signer.keys.publicKey)) as Record<string, unknown>;
    fake.kid = `fake-nras-${randomUUID()}`;
  };
  const fake: FakeNras = { handle, requests: [], jwksFetches: 0, tamper, root, otherRoot, kid: `fake-nras-${randomUUID()}`, rotateKey };

  function jwt(claims: Record<string, unknown>, broken: boolean): string {
    const header = { alg: "ES384", typ: "JWT", kid: fake.tamper.unknownKid ? "no-such-kid" : fake.kid };
    const input = `${segment(header)}.${segment(claims)}`;
    const key = fake.tamper.foreignKey ? foreign.privateKey : signer.privateKey;
    const signature = sign("sha384", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
    if (broken) signature[10]! ^= 0x01;
    return `${input}.${signature.toString("base64url")}`;
  }

  function attest(body: Record<string, unknown>): unknown {
    const t = fake.tamper;
    const nonce = String(body.nonce);
    const now = Math.floor(Date.now() / 1000);
    const times = t.expired ? { iat: now - 7200, nbf: now - 7200, exp: now - 3600 } : { iat: now, nbf: now, exp: now + 3600 };
    const evidence = Array.isArray(body.evidence_list) ? (body.evidence_list as Array<{ evidence?: string }>) : [];
    const detached: Record<string, string> = {};
    const submods: Record<string, unknown> = {};
    const kept = t.dropGpu ? evidence.slice(0, -1) : evidence;
    kept.forEach((item, index) => {
      let report: { nonce?: string } = {};
      try {
        report = JSON.parse(Buffer.from(item.evidence ?? "", "base64").toString("utf8"));
      } catch {}
      const first = index === 0;
      const claims = {
        ...times,
        iss: "https://nras.fake",
        jti: randomUUID(),
        eat_nonce: t.wrongNonce === "gpu" && first ? "00".repeat(32) : nonce,
        hwmodel: "GH100 A01 GSP BROM",
        measres: t.failedMeasurement && first ? "fail" : "success",
        "x-nvidia-gpu-arch-check": true,
        "x-nvidia-gpu-attestation-report-parsed": true,
        "x-nvidia-gpu-attestation-report-nonce-match": report.nonce === nonce,
        "x-nvidia-gpu-attestation-report-signature-verified": !(t.reportSignatureFailed && first),
        "x-nvidia-gpu-attestation-report-cert-chain": {
          "x-nvidia-cert-status": t.certChainRevoked && first ? "revoked" : "valid",
          "x-nvidia-cert-ocsp-status": t.certChainRevoked && first ? "revoked" : "good",
        },
        secboot: true,
        dbgstat: "disabled",
      };
      const token = jwt(claims, t.badSignature === "gpu" && first);
      detached[`GPU-${index}`] = token;
      submods[`GPU-${index}`] = ["DIGEST", ["SHA-256", "0".repeat(64)]];
    });
    const allPass = kept.every((_, index) => {
      const report = JSON.parse(Buffer.from(kept[index]?.evidence ?? "", "base64").toString("utf8") || "{}") as { nonce?: string };
      return report.nonce === nonce;
    });
    const overall = {
      ...times,
      iss: "https://nras.fake",
      jti: randomUUID(),
      sub: "NVIDIA-PLATFORM-ATTESTATION",
      "x-nvidia-ver": "3.0",
      "x-nvidia-overall-att-result": t.overallResult ?? allPass,
      eat_nonce: t.wrongNonce === "overall" ? "11".repeat(32) : nonce,
      submods,
    };
    return [["JWT", jwt(overall, t.badSignature === "overall")], detached];
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    const path = new URL(request.url ?? "/", "http://fake").pathname;
    if (request.method === "GET" && path === "/.well-known/jwks.json") {
      fake.jwksFetches++;
      const keys = [
        { ...publicJwk, kid: fake.kid, alg: "ES384", use: "sig", x5c: [signer.der.toString("base64"), root.der.toString("base64")] },
      ];
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ keys }));
      return true;
    }
    if (request.method !== "POST" || path !== "/v3/attest/gpu") return false;
    const parts: Buffer[] = [];
    for await (const part of request) parts.push(part as Buffer);
    const body = JSON.parse(Buffer.concat(parts).toString("utf8")) as Record<string, unknown>;
    fake.requests.push(body);
    if (fake.tamper.status) {
      response.writeHead(fake.tamper.status, { "content-type": "application/json" });
      response.end(JSON.stringify({ errorCode: fake.tamper.status, message: "refused" }));
      return true;
    }
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify(attest(body)));
    return true;
  }

  return fake;
}

export async function startFakeNras(tamper: NrasTamper = {}) {
  const fake = await createFakeNras(tamper);
  return serveFakes(fake, [fake.handle]);
}
