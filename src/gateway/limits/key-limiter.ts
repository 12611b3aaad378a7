import { budgetWindow, type KeyRecord } from "../../store/key-store.js";
import { type LimitSnapshot, type RateLimitHeaders, rateLimitHeaders } from "./rate-headers.js";
import { type Bucket, credit, newBucket, refill, untilFull, waitFor } from "./token-bucket.js";

/** What the limiter reads of a key: its limits, and its creation time (budget windows start there). */
export type KeyLimits = Pick<KeyRecord, "id" | "rpm" | "tpm" | "maxParallel" | "budget" | "createdAt">;

export interface AcquireInput {
  key: KeyLimits;
  /** Tokens the request may use (prompt estimate + max output): reserved against TPM until settled. */
  estimateTokens: number;
  now: number;
}

export type LimitKind = "requests" | "tokens" | "parallel" | "budget";

export interface Reservation {
  readonly keyId: string;
  readonly estimateTokens: number;
  /**
   * The call ended with known usage: TPM is corrected to `tokens` (the estimate is given back or
   * the excess charged), `cost` (USD, the ledger row's) counts against the budget of the window
   * the request started in, and the parallel slot is freed. Only the first settle or release counts.
   */
  settle(usage: { tokens: number; cost: number | null }, now: number): void;
  /** The call ended without usage (error, abort): the slot is freed, the estimate stays charged. */
  release(): void;
}

export type Admission =
  | { ok: true; reservation: Reservation; headers: RateLimitHeaders }
  | {
      ok: false;
      limit: LimitKind;
      message: string;
      /** Undefined when waiting will not help (a `total` budget). */
      retryAfterMs: number | undefined;
      headers: RateLimitHeaders;
    };

/**
 * Per-key limits, behind an interface a shared store can implement (the replicas issue: Redis,
 * one atomic script per acquire/settle). The in-process one below is O(1) per call.
 */
export interface KeyLimiter {
  acquire(input: AcquireInput): Promise<Admission>;
  /** The spend already recorded (the ledger) in the window starting at `windowStart`. */
  seedSpend(keyId: string, windowStart: number, usd: number): Promise<void>;
  /** USD counted against the key's budget in its current window. */
  spent(key: KeyLimits, now: number): Promise<number>;
}

interface KeyState {
  requests: Bucket | undefined;
  tokens: Bucket | undefined;
  inFlight: number;
  spendStart: number;
  spent: number;
  /** The budget period `spent` was counted for; another one (a budget added or changed) is read again from the ledger. */
  period: string | undefined;
}

export interface InMemoryKeyLimiterOptions {
  /**
   * USD the key spent since `since` (the ledger's `keySpend`): read when a key's budget is first
   * seen or its period changes, so a restart or `keys update --budget` starts from the real spend.
   */
  spendSince?: (keyId: string, since: number) => Promise<number>;
}

/** When a parallel slot frees is unknown: a hint for `Retry-After`. */
const PARALLEL_RETRY_MS = 1000;

export class InMemoryKeyLimiter implements KeyLimiter {
  private readonly states = new Map<string, KeyState>();

  constructor(private readonly options: InMemoryKeyLimiterOptions = {}) {}

  private state(key: KeyLimits, now: number): KeyState {
    let state = this.states.get(key.id);
    if (!state) {
      state = {
        requests: undefined,
        tokens: undefined,
        inFlight: 0,
        spendStart: budgetWindow(key, now).start,
        spent: 0,
        period: undefined,
      };
      this.states.set(key.id, state);
    }
    if (key.rpm) {
      state.requests ??= newBucket(key.rpm, now);
      refill(state.requests, key.rpm, now);
    }
    if (key.tpm) {
      state.tokens ??= newBucket(key.tpm, now);
      refill(state.tokens, key.tpm, now);
    }
    return state;
  }

  /** The spend of the window `now` is in: a new window starts from zero. */
  private roll(state: KeyState, key: KeyLimits, now: number): void {
    const { start } = budgetWindow(key, now);
    if (start > state.spendStart) {
      state.spendStart = start;
      state.spent = 0;
    }
  }

  private headers(key: KeyLimits, state: KeyState): RateLimitHeaders {
    const snapshot = (bucket: Bucket | undefined, capacity: number | undefined): LimitSnapshot | undefined =>
      bucket && capacity ? { limit: capacity, remaining: bucket.level, resetMs: untilFull(bucket, capacity) } : undefined;
    return rateLimitHeaders(snapshot(state.requests, key.rpm), snapshot(state.tokens, key.tpm));
  }

  async acquire({ key, estimateTokens, now }: AcquireInput): Promise<Admission> {
    const state = this.state(key, now);
    const refuse = (limit: LimitKind, message: string, retryAfterMs: number | undefined): Admission => ({
      ok: false,
      limit,
      message,
      retryAfterMs,
      headers: this.headers(key, state),
    });
    if (key.budget) {
      if (state.period !== key.budget.period && this.options.spendSince) {
        const { start } = budgetWindow(key, now);
        const spent = await this.options.spendSince(key.id, start);
        Object.assign(state, { spendStart: start, spent, period: key.budget.period });
      }
      this.roll(state, key, now);
      // Reached, not only exceeded: a budget of $1 spent to the cent admits nothing more.
      if (state.spent >= key.budget.usd) {
        const { end } = budgetWindow(key, now);
        const period = key.budget.period === "total" ? "" : ` this ${key.budget.period} period`;
        return refuse(
          "budget",
          `this key has used its budget of $${key.budget.usd}${period}`,
          Number.isFinite(end) ? end - now : undefined,
        );
      }
    }
    if (key.maxParallel && state.inFlight >= key.maxParallel)
      return refuse(
        "parallel",
        `this key already has ${state.inFlight} requests in progress (limit ${key.maxParallel})`,
        PARALLEL_RETRY_MS,
      );
    if (key.rpm && state.requests) {
      const wait = waitFor(state.requests, key.rpm, 1);
      if (wait > 0) return refuse("requests", `rate limit reached: ${key.rpm} requests per minute for this key`, wait);
    }
    const estimate = Math.max(0, Math.ceil(estimateTokens));
    if (key.tpm && state.tokens) {
      const wait = waitFor(state.tokens, key.tpm, estimate);
      if (wait > 0) return refuse("tokens", `rate limit reached: ${key.tpm} tokens per minute for this key`, wait);
    }
    // Every check passed: only now is anything taken, so a refusal costs the key nothing.
    if (state.requests) state.requests.level -= 1;
    if (state.tokens) state.tokens.level -= estimate;
    state.inFlight++;
    return { ok: true, reservation: this.reservation(key, state, estimate, now), headers: this.headers(key, state) };
  }

  private reservation(key: KeyLimits, state: KeyState, estimate: number, startedAt: number): Reservation {
    let done = false;
    const windowStart = budgetWindow(key, startedAt).start;
    const finish = () => {
      if (done) return false;
      done = true;
      state.inFlight = Math.max(0, state.inFlight - 1);
      return true;
    };
    return {
      keyId: key.id,
      estimateTokens: estimate,
      settle: (usage, now) => {
        if (!finish()) return;
        if (state.tokens && key.tpm) {
          refill(state.tokens, key.tpm, now);
          const actual = Math.max(0, usage.tokens);
          if (actual < estimate) credit(state.tokens, key.tpm, estimate - actual);
          else state.tokens.level -= actual - estimate;
        }
        if (usage.cost && key.budget) {
          this.roll(state, key, now);
          // The ledger files a request under the time it started: so does the budget.
          if (windowStart === state.spendStart) state.spent += usage.cost;
        }
      },
      release: () => {
        finish();
      },
    };
  }

  async seedSpend(keyId: string, windowStart: number, usd: number): Promise<void> {
    const state = this.states.get(keyId);
    if (state) {
      state.spendStart = windowStart;
      state.spent = usd;
    } else
      this.states.set(keyId, {
        requests: undefined,
        tokens: undefined,
        inFlight: 0,
        spendStart: windowStart,
        spent: usd,
        period: undefined,
      });
  }

  async spent(key: KeyLimits, now: number): Promise<number> {
    const state = this.states.get(key.id);
    if (!state) return 0;
    this.roll(state, key, now);
    return state.spent;
  }
}
