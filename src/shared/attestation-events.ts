import { channel } from "node:diagnostics_channel";

/**
 * Attestation verdicts, published by providers that verify TEEs and read by whoever cares (the
 * gateway's metrics) without either importing the other. Publishing costs nothing when nobody
 * subscribes.
 */
export interface AttestationEvent {
  provider: string;
  /** verified: an instance passed; failed: evidence was checked and refused; unavailable: nothing could be checked. */
  result: "verified" | "failed" | "unavailable";
}

export const attestationEvents = channel("openclaw:attestation");

export function publishAttestation(event: AttestationEvent): void {
  if (attestationEvents.hasSubscribers) attestationEvents.publish(event);
}
