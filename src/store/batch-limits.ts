/**
 * The store's batching bounds, in a file of their own so that the gateway's main thread can read
 * them without loading SQLite (better-sqlite3 is loaded only by the writer thread and the CLI).
 */

/** Records waiting for a locked database; past it the oldest go. */
export const MAX_QUEUED = 10_000;

/**
 * What a hard crash (`kill -9`) can lose: the records still queued on the main thread, so at
 * most `DEFAULT_FLUSH_DELAY_MS` of them and never more than `DEFAULT_MAX_BATCH_TURNS`, plus the
 * batch the gateway's writer thread is committing (it commits one in about a millisecond; only
 * a disk that falls behind lets more wait there, up to `MAX_IN_FLIGHT` in worker-store.ts). A
 * written batch survives a process crash (WAL, synchronous=NORMAL); a power loss may lose the
 * last transactions since a checkpoint. While another process keeps the database locked,
 * records wait for the retry (up to `MAX_QUEUED`).
 */
export const DEFAULT_FLUSH_DELAY_MS = 25;
export const DEFAULT_MAX_BATCH_TURNS = 64;
