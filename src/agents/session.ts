import { randomUUID } from "node:crypto";
import { type PricedUsage, type TokenPrices, usageCost } from "../models/usage-cost.js";
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

/**
 * USD for a call (see usageCost: cached input at its own price). The ledger row, the session turn
 * and the key's budget all take this one figure.
 */
export function costOf(usage: PricedUsage | null | undefined, price: TokenPrices | undefined): number | null {
  return usageCost(usage, price);
}
