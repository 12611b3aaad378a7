import type { E2eInstancesResponse } from "./wire.js";

/** One attested instance with its single-use invoke nonces. */
export interface Grant {
  instanceId: string;
  e2ePubkey: string;
  nonce: string;
}

interface Slot {
  instanceId: string;
  e2ePubkey: string;
  nonces: string[];
}

/** Nonces are dropped this long before Chutes says they expire: a request in flight must not race the expiry. */
const EXPIRY_MARGIN_MS = 5_000;
/** The relay hands out 10 per instance; a listing is never trusted for more than this. */
const MAX_NONCES_PER_INSTANCE = 64;

/**
 * Single-use invoke nonces per chute, from `/e2e/instances`, for instances that passed attestation
 * with the very key listed (`isAttested`). A nonce is taken once and never handed out again, whatever
 * happens to the request. One listing is shared by concurrent callers (the route allows 10/min).
 */
export class NoncePool {
  private slots: Slot[] = [];
  private expiresAt = 0;
  private refill: Promise<void> | undefined;

  constructor(
    private readonly list: () => Promise<E2eInstancesResponse>,
    private readonly isAttested: (instanceId: string, e2ePubkey: string) => boolean,
    private readonly now: () => number,
  ) {}

  /** A nonce of an attested instance not in `skip`, refilling once when none is left; undefined when none can be had. */
  async take(skip: ReadonlySet<string>): Promise<Grant | undefined> {
    const ready = this.pick(skip);
    if (ready) return ready;
    this.refill ??= this.fill().finally(() => {
      this.refill = undefined;
    });
    await this.refill;
    return this.pick(skip);
  }

  /** The instance is gone (410): none of its nonces is worth sending. */
  drop(instanceId: string): void {
    this.slots = this.slots.filter((slot) => slot.instanceId !== instanceId);
  }

  private pick(skip: ReadonlySet<string>): Grant | undefined {
    if (this.now() >= this.expiresAt) return undefined;
    for (const slot of this.slots) {
      if (skip.has(slot.instanceId) || !this.isAttested(slot.instanceId, slot.e2ePubkey)) continue;
      const nonce = slot.nonces.shift();
      if (nonce !== undefined) return { instanceId: slot.instanceId, e2ePubkey: slot.e2ePubkey, nonce };
    }
    return undefined;
  }

  private async fill(): Promise<void> {
    const started = this.now();
    const listed = await this.list();
    const ttlMs = (listed.nonce_expires_in ?? 60) * 1000;
    this.expiresAt = started + Math.max(0, ttlMs - EXPIRY_MARGIN_MS);
    this.slots = listed.instances.map((instance) => ({
      instanceId: instance.instance_id,
      e2ePubkey: instance.e2e_pubkey,
      nonces: instance.nonces.slice(0, MAX_NONCES_PER_INSTANCE),
    }));
  }
}
