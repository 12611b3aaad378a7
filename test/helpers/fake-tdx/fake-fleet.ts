import { randomBytes } from "node:crypto";
import type { TeeAttestorOptions } from "../../../src/providers/chutes/tee/attestation/attestor.js";
import type { GpuVerifier } from "../../../src/providers/chutes/tee/attestation/instance-verdict.js";
import { buildCollateral } from "./collateral.js";
import { type FakeChutesTee, type FakeChutesTeeHandler, type FakeTeeInstance, startFakeChutesTee } from "./fake-chutes-tee.js";
import { type FakePccs, startFakePccs } from "./fake-pccs.js";
import { createTdxPlatform, type TdxPlatform } from "./tdx-quote.js";
import { createTestCa, createTlsCertificate, type PlatformTcb, type TestCa } from "./test-ca.js";

export const DAY = 86_400_000;
const TCB: PlatformTcb = { fmspc: "00806F050000", pceId: "0000", cpuSvn: [2, 2, 2, 2, 3, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0], pceSvn: 13 };
const TEE_TCB_SVN = [5, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

export interface FakeTeeFleet {
  now: number;
  chute: string;
  credential: string;
  ca: TestCa;
  /** A machine certified by another root ("wrong root"). */
  foreignPlatform: TdxPlatform;
  pccs: FakePccs;
  tee: FakeChutesTee;
  /** Serve new collateral (another TCB status, another validity window). */
  publishCollateral(options: { tcbStatus?: string; issueDate?: number; nextUpdate?: number }): void;
  /** The options a user would set to point the attestor at these servers. */
  attestorOptions(extra?: Partial<TeeAttestorOptions>): TeeAttestorOptions;
  close(): Promise<void>;
}

const hex48 = (byte: number) => Buffer.alloc(48, byte);

/**
 * A TDX fleet for one chute: a test CA standing in for Intel, a PCCS serving its collateral,
 * and the Chutes API serving instances, evidence (fresh quotes per request) and measurements.
 */
export async function startFakeTeeFleet(options: {
  now: number;
  instances?: number;
  /** The instances' e2e public keys (base64), e.g. real ML-KEM-768 keys for an E2EE round trip; random bytes otherwise. */
  e2ePubkeys?: string[];
  tcbStatus?: string;
  collateralDays?: number;
  /** Extra routes on the fake Chutes API (e.g. `/e2e/invoke`): return true when handled. */
  handle?: FakeChutesTeeHandler;
  /** The root names this URL as its CRL distribution point. */
  rootCrlUrl?: string;
  /** The chute's id or name in the API's paths (default `openclaw/Test-Model-TEE`). */
  chute?: string;
  /** `/e2e/instances` answered by `handle` rather than by the fleet (see `startFakeChutesTee`). */
  delegateE2e?: boolean;
  /** Which Authorization headers the API accepts (default: `Bearer {credential}` only). */
  authorize?: (authorization: string | undefined, path: string) => boolean;
}): Promise<FakeTeeFleet> {
  const now = options.now;
  const ca = await createTestCa({ now, ...(options.rootCrlUrl ? { rootCrlUrl: options.rootCrlUrl } : {}) });
  const foreign = await createTestCa({ now, name: "Mallory" });
  const platform = await createTdxPlatform(ca, TCB, TEE_TCB_SVN);
  const foreignPlatform = await createTdxPlatform(foreign, TCB, TEE_TCB_SVN);
  const collateralDays = options.collateralDays ?? 30;
  const collateral = (overrides: { tcbStatus?: string; issueDate?: number; nextUpdate?: number }) =>
    buildCollateral(ca, {
      tcb: TCB,
      teeTcbSvn: TEE_TCB_SVN,
      tcbStatus: overrides.tcbStatus ?? options.tcbStatus ?? "UpToDate",
      issueDate: overrides.issueDate ?? now - DAY,
      nextUpdate: overrides.nextUpdate ?? now + collateralDays * DAY,
    });
  const pccs = await startFakePccs(collateral({}));

  const instances: FakeTeeInstance[] = [];
  for (let index = 0; index < (options.instances ?? options.e2ePubkeys?.length ?? 2); index++) {
    instances.push({
      id: `inst-${index + 1}`,
      e2ePubkey: options.e2ePubkeys?.[index] ?? randomBytes(1184).toString("base64"),
      platform,
      certificate: await createTlsCertificate(`attestation-${index + 1}.chutes.test`, now),
      mrtd: hex48(0x01),
      rtmrs: [hex48(0x10), hex48(0x11), hex48(0x12), hex48(0x13)],
      gpus: 2,
    });
  }
  const upper = (bytes: Buffer) => bytes.toString("hex").toUpperCase();
  const rtmrs = (values: Buffer[]) => Object.fromEntries(values.map((value, index) => [`RTMR${index}`, upper(value)]));
  const measurements = [
    // Shapes the list has carried across chutes-api versions: SEV-SNP entries, extra fields, odd entries.
    {
      version: "1.3.0",
      name: "8xmi300-snp",
      tee_type: "sev-snp",
      mrtd: "",
      boot_rtmrs: {},
      runtime_rtmrs: {},
      measurement: "ab".repeat(48),
      expected_gpus: [],
      gpu_count: 8,
    },
    { name: "broken" },
    {
      version: "1.3.0",
      name: "8xh200",
      tee_type: "tdx",
      provider: "bare-metal",
      mrtd: upper(hex48(0x01)),
      boot_rtmrs: rtmrs([hex48(0x10), hex48(0x11), hex48(0x12), hex48(0)]),
      runtime_rtmrs: rtmrs([hex48(0x10), hex48(0x11), hex48(0x12), hex48(0x13)]),
      expected_gpus: ["h200"],
      gpu_count: 8,
      fingerprint: "f".repeat(64),
    },
  ];
  const chute = options.chute ?? "openclaw/Test-Model-TEE";
  const credential = `cpk_test_${randomBytes(12).toString("hex")}`;
  const tee = await startFakeChutesTee({
    chute,
    credential,
    instances,
    measurements,
    ...(options.handle ? { handle: options.handle } : {}),
    ...(options.delegateE2e ? { delegateE2e: true } : {}),
    ...(options.authorize ? { authorize: options.authorize } : {}),
  });

  return {
    now,
    chute,
    credential,
    ca,
    foreignPlatform,
    pccs,
    tee,
    publishCollateral(overrides) {
      pccs.content = collateral(overrides);
    },
    attestorOptions(extra = {}) {
      return { apiBaseUrl: tee.url, credential, pccsUrl: pccs.url, trustAnchorPem: ca.root.pem, gpuVerifier: fakeGpuVerifier, ...extra };
    },
    close: async () => {
      await Promise.all([pccs.close(), tee.close()]);
    },
  };
}

/**
 * The GPU verifier stand-in (the NRAS one is tested elsewhere): it accepts the fake's GPU
 * evidence only when each GPU was asked to sign the nonce the attestor passes, and was not refused.
 */
export const fakeGpuVerifier: GpuVerifier = async (derivedNonceHex, items) => {
  for (const item of items) {
    const report = JSON.parse(Buffer.from(item.evidence, "base64").toString("utf8")) as { gpu: number; nonce: string; accepted: boolean };
    if (report.nonce !== derivedNonceHex) return { ok: false, detail: `GPU ${report.gpu}: nonce mismatch` };
    if (!report.accepted) return { ok: false, detail: `GPU ${report.gpu}: attestation refused by the verifier` };
  }
  return { ok: true, detail: `${items.length} GPU(s) attested` };
};
