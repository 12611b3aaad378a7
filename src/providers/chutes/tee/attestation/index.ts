/** The attestation library's surface for the provider, the gateway and `openclaw tee verify`. */
export { createTeeAttestor, DEFAULT_CHUTES_API_URL, type TeeAttestor, type TeeAttestorOptions } from "./attestor.js";
export { derivedNonce } from "./bindings.js";
export type { GpuVerifier } from "./instance-verdict.js";
export { INTEL_SGX_ROOT_CA_PEM } from "./intel-sgx-root-ca.js";
export { INTEL_PCS_URL } from "./pccs-collateral.js";
export {
  attestationError,
  attestedInstances,
  type CheckName,
  type CheckResult,
  type ChuteReport,
  describeFailure,
  type InstanceReport,
} from "./report.js";
