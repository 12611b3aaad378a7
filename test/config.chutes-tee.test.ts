import assert from "node:assert/strict";
import { OpenClawConfigSchema } from "../src/config/schema.js";
import { test } from "./helpers/test.js";

const HEX48 = "ab".repeat(48);
const chutes = (provider: Record<string, unknown>) => OpenClawConfigSchema.safeParse({ models: { providers: { chutes: provider } } });
const issue = (result: ReturnType<typeof chutes>) => (result.success ? "" : JSON.stringify(result.error.issues));

test("chutes e2ee and tee settings: every key accepted with its documented shape", () => {
  const result = chutes({
    e2ee: true,
    tee: {
      apiBaseUrl: "https://api.chutes.ai",
      pccsUrl: "https://pccs.example/",
      trustAnchorPem: "~/anchors/test-root.pem",
      tcbAllow: ["UpToDate", "SWHardeningNeeded"],
      measurements: [{ name: "8xh200", version: "1.3.0", mrtd: HEX48, runtime_rtmrs: { RTMR0: HEX48 }, gpu_count: 8, extra: 1 }],
      gpuVerifierUrl: "https://nras.example",
      verifiedTtlSeconds: 600,
      failureTtlSeconds: 30,
    },
  });
  assert.equal(result.success, true, issue(result));
});

test("a revoked TCB status can never be allowed", () => {
  const result = chutes({ tee: { tcbAllow: ["UpToDate", "Revoked"] } });
  assert.equal(result.success, false);
  assert.match(issue(result), /tcbAllow/);
});

test("a pinned measurement must carry a 48-byte mrtd and RTMRs; unknown tee keys are refused", () => {
  assert.match(issue(chutes({ tee: { measurements: [{ mrtd: "abc", runtime_rtmrs: {} }] } })), /mrtd is 48 bytes of hex/);
  assert.match(issue(chutes({ tee: { measurements: [{ mrtd: HEX48, runtime_rtmrs: { RTMR0: "zz" } }] } })), /RTMR/);
  assert.match(issue(chutes({ tee: { verifiedTtl: 5 } })), /verifiedTtl/);
  assert.match(issue(chutes({ e2ee: "yes" })), /e2ee/);
});
