import type { ResponseStore } from "./response-store.js";
import type { SessionStore } from "./session-store.js";

/** Everything the gateway persists: session transcripts and stored responses. */
export type StateStore = SessionStore & ResponseStore;
