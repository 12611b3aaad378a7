import type { ChatChunk, ChatCompletion } from "../../shared/wire.js";

/**
 * A whole `chat.completion` as the chunks a stream would have carried: role and content
 * (and tool calls, with their indexes), then the finish reason, then usage. For upstreams that
 * answer a stream request with plain JSON.
 */
export function completionToChunks(completion: ChatCompletion): ChatChunk[] {
  const base = { id: completion.id, object: "chat.completion.chunk" as const, created: completion.created, model: completion.model };
  const chunks: ChatChunk[] = [];
  for (const [position, choice] of (completion.choices ?? []).entries()) {
    const index = choice.index ?? position;
    const message = choice.message ?? { role: "assistant" };
    const calls = Array.isArray(message.tool_calls) ? (message.tool_calls as Array<Record<string, unknown>>) : [];
    chunks.push({
      ...base,
      choices: [
        {
          index,
          delta: {
            role: message.role ?? "assistant",
            content: typeof message.content === "string" ? message.content : null,
            ...(typeof message.reasoning_content === "string" ? { reasoning_content: message.reasoning_content } : {}),
            ...(calls.length ? { tool_calls: calls.map((call, callIndex) => ({ index: callIndex, ...call })) } : {}),
          },
          finish_reason: null,
        },
      ],
    });
    chunks.push({ ...base, choices: [{ index, delta: {}, finish_reason: choice.finish_reason ?? "stop" }] });
  }
  if (completion.usage) chunks.push({ ...base, choices: [], usage: completion.usage });
  return chunks;
}
