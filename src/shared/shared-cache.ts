/**
 * A cache every replica sees (Redis when `gateway.state.redis` is set). Values are strings the
 * caller encodes; a cache that does not answer behaves as a miss (get → undefined, set → ignored),
 * so callers keep their local path. Holds no secrets: discovered model lists, attestation verdicts.
 */
export interface SharedCache {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
}
