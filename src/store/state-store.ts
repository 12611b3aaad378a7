import type { ResponseStore } from "./response-store.js";
import type { SessionStore } from "./session-store.js";
import type { UsageLedger } from "./usage-ledger.js";

/** Everything the gateway persists: the usage ledger, session transcripts and stored responses. */
export interface StateStore extends SessionStore, ResponseStore, UsageLedger {
  /** Write everything queued, then release the database (bounded). */
  close(): Promise<void>;
}
