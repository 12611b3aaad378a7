import { randomUUID } from "node:crypto";
import type { ChatMessage } from "../shared/wire.js";

/** `gateway.sessions.content`: which requests keep their messages. */
export type ContentSetting = "keyed" | "all" | "none";

/** What a request leaves behind beyond its ledger row. */
export interface SessionPlan {
  /** The session its turn goes to; null when it keeps no turn. */
  key: string | null;
  /** Whether the turn keeps its messages (otherwise only its metadata). */
  content: boolean;
}

/**
 * Requests are private unless the client names a session: `x-openclaw-session-key` verbatim, else
 * a stable key from the OpenAI `user` field. A named session keeps its turns (with their messages
 * unless content is "none"); an unnamed request keeps none, unless content is "all", which gives
 * it a session of its own.
 */
export function planSession(agentId: string, headerKey: string | undefined, user: unknown, content: ContentSetting = "keyed"): SessionPlan {
  const named = headerKey ?? (typeof user === "string" && user.trim() ? `agent:${agentId}:openai-user:${user.trim()}` : undefined);
  if (named !== undefined) return { key: named, content: content !== "none" };
  if (content === "all") return { key: `agent:${agentId}:request:${randomUUID()}`, content: true };
  return { key: null, content: false };
}

/** The messages new in this turn: everything after the last assistant message. */
export function newMessages(messages: ChatMessage[]): ChatMessage[] {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]?.role === "assistant") return messages.slice(i + 1);
  return messages;
}

/** USD for a call, from per-1M-token prices; null when the catalog has no price. */
export function costOf(
  usage: { prompt_tokens?: number; completion_tokens?: number } | null | undefined,
  price: { input?: number; output?: number } | undefined,
): number | null {
  if (!usage || !price || (price.input === undefined && price.output === undefined)) return null;
  return ((usage.prompt_tokens ?? 0) * (price.input ?? 0) + (usage.completion_tokens ?? 0) * (price.output ?? 0)) / 1_000_000;
}
