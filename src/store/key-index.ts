import { claimedKeyId, type KeyVerifier, keyVerifier, secretMatches } from "./key-secret.js";
import type { KeyRecord, KeyStore } from "./key-store.js";

export type KeyCheck =
  | { ok: true; key: KeyRecord }
  /** `unknown` also covers a wrong secret for a known id: the caller must not tell them apart. */
  | { ok: false; reason: "unknown" | "revoked" | "expired" };

/**
 * The keys in memory, by id: checking a presented key is a map lookup on the id it carries,
 * one HMAC and a constant-time comparison; no I/O, no scan. Replaced whole on reload.
 */
export class KeyIndex {
  private readonly byId: Map<string, { key: KeyRecord; verifier: KeyVerifier }>;

  constructor(keys: KeyRecord[]) {
    this.byId = new Map(keys.map((key) => [key.id, { key, verifier: keyVerifier(key) }]));
  }

  get size(): number {
    return this.byId.size;
  }

  /** True when `token` is shaped like a virtual key (so a gateway can tell it from its own token cheaply). */
  static looksLikeKey(token: string): boolean {
    return token.startsWith("ock_");
  }

  check(token: string, now: number): KeyCheck {
    const id = claimedKeyId(token);
    const entry = id === undefined ? undefined : this.byId.get(id);
    if (!entry || !secretMatches(token, entry.verifier)) return { ok: false, reason: "unknown" };
    const { key } = entry;
    if (key.revokedAt !== undefined) return { ok: false, reason: "revoked" };
    if (key.expiresAt !== undefined && key.expiresAt <= now) return { ok: false, reason: "expired" };
    return { ok: true, key };
  }

  get(id: string): KeyRecord | undefined {
    return this.byId.get(id)?.key;
  }
}

export interface LiveKeyIndexOptions {
  /** A reload that failed (malformed file…): the previous keys stay in force. */
  onError?: (error: Error) => void;
  onReload?: (index: KeyIndex) => void;
}

/**
 * The gateway's view of a key store: loaded at start, reloaded when the store says it changed
 * (a CLI `keys create/update/revoke` takes effect within the watch's debounce, no restart).
 */
export class LiveKeyIndex {
  private stopWatch: (() => void) | undefined;
  private loading: Promise<void> | undefined;
  private again = false;

  private constructor(
    private readonly store: KeyStore,
    public current: KeyIndex,
    private readonly options: LiveKeyIndexOptions,
  ) {}

  static async open(store: KeyStore, options: LiveKeyIndexOptions = {}): Promise<LiveKeyIndex> {
    const live = new LiveKeyIndex(store, new KeyIndex(await store.list()), options);
    live.stopWatch = store.watch(() => void live.reload());
    return live;
  }

  /** Reload now; overlapping calls coalesce into one more load after the running one. */
  reload(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      do {
        this.again = false;
        try {
          this.current = new KeyIndex(await this.store.list());
          this.options.onReload?.(this.current);
        } catch (error) {
          this.options.onError?.(error as Error);
        }
      } while (this.again);
    })().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  close(): void {
    this.stopWatch?.();
  }
}
