import { randomUUID } from "node:crypto";
import type { ChatMessage } from "../shared/wire.js";

/**
 * Sessions are stateless per request unless the client names one: `x-openclaw-session-key`
 * verbatim, else a stable key from the OpenAI `user` field.
 */
export function resolveSessionKey(agentId: string, headerKey: string | undefined, user: unknown): string {
  if (headerKey) return headerKey;
  if (typeof user === "string" && user.trim()) return `agent:${agentId}:openai-user:${user.trim()}`;
  return `agent:${agentId}:request:${randomUUID()}`;
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
