import { CancelledError, UpstreamError } from "../../shared/errors.js";

/**
 * Concurrent requests per upstream origin, with a bounded wait for a free slot. undici's pool
 * would otherwise queue requests past its connection count silently, until headers time out;
 * here the wait is explicit and ends in a 503 the client can retry.
 */
export const DEFAULT_MAX_CONNECTIONS = 256;
export const DEFAULT_QUEUE_TIMEOUT_MS = 10_000;

interface Waiter {
  grant(): void;
}

class Slots {
  active = 0;
  readonly waiting = new Set<Waiter>();
  constructor(public limit: number) {}

  release(): void {
    this.active--;
    while (this.active < this.limit && this.waiting.size > 0) {
      const next = this.waiting.values().next().value as Waiter;
      this.waiting.delete(next);
      this.active++;
      next.grant();
    }
  }
}

/** One table per process: clients of several providers may share an origin. */
const byOrigin = new Map<string, Slots>();

export interface SlotRequest {
  origin: string;
  providerId: string;
  limit: number;
  queueTimeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** Resolves with the function that gives the slot back (call it exactly once). */
export function acquireSlot({ origin, providerId, limit, queueTimeoutMs, signal }: SlotRequest): Promise<() => void> {
  let slots = byOrigin.get(origin);
  if (!slots) {
    slots = new Slots(limit);
    byOrigin.set(origin, slots);
  }
  slots.limit = limit;
  const owned = slots;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    owned.release();
    if (owned.active === 0 && owned.waiting.size === 0) byOrigin.delete(origin);
  };
  if (owned.active < owned.limit) {
    owned.active++;
    return Promise.resolve(release);
  }
  return new Promise((resolve, reject) => {
    const stop = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      owned.waiting.delete(waiter);
    };
    const waiter: Waiter = {
      grant: () => {
        stop();
        resolve(release);
      },
    };
    const onAbort = () => {
      stop();
      reject(new CancelledError(`request to ${providerId} was cancelled`));
    };
    const timer = setTimeout(() => {
      stop();
      reject(
        new UpstreamError(`${providerId} is busy: ${owned.limit} requests already in flight (gateway.http.upstreamMaxConnections)`, {
          status: 503,
          type: "upstream_error",
          code: "upstream_busy",
          retryable: true,
          retryAfterSeconds: 1,
        }),
      );
    }, queueTimeoutMs);
    timer.unref?.();
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    owned.waiting.add(waiter);
  });
}
