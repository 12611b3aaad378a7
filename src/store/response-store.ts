import type { ChatMessage } from "../shared/wire.js";

/** A stored `/v1/responses` result and the conversation that led to it, for `previous_response_id`. */
export interface StoredResponse {
  id: string;
  agentId: string;
  createdAt: number;
  /** The response object as it was returned. */
  response: unknown;
  /** The messages sent for it, without its instructions (those do not carry over). */
  history: ChatMessage[];
  /** Its output as chat messages. */
  output: ChatMessage[];
}

/** Off the event loop: each call resolves once the store has done it (a save, once it is committed). */
export interface ResponseStore {
  saveResponse(response: StoredResponse): Promise<void>;
  getResponse(id: string): Promise<StoredResponse | undefined>;
  deleteResponse(id: string): Promise<boolean>;
}
