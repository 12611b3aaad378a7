import type { SessionSummary, TurnRecord } from "./session-store.js";

export interface SessionListQuery {
  /** Most sessions returned, newest first. */
  limit?: number;
  agentId?: string;
  /** Only sessions whose key, agent or last model contains this text (case-insensitive). */
  text?: string;
}

export interface SessionTranscript {
  session: SessionSummary;
  turns: TurnRecord[];
}

/**
 * Reading transcripts back from a running gateway (the dashboard), through the store's writer
 * thread so SQLite never runs on the event loop. Stores that cannot (yet) read sessions leave it out.
 */
export interface SessionReader {
  listSessions(query: SessionListQuery): Promise<SessionSummary[]>;
  getSession(key: string): Promise<SessionTranscript | undefined>;
}

export function canReadSessions(store: object): store is SessionReader {
  return (
    typeof (store as Partial<SessionReader>).listSessions === "function" &&
    typeof (store as Partial<SessionReader>).getSession === "function"
  );
}
