/**
 * Chat messages in the GenAI conventions' shape (`gen_ai.input.messages` / `gen_ai.output.messages`:
 * role + parts), as JSON text capped at MAX_CONTENT_CHARS: only built when content capture is on.
 */
export const MAX_CONTENT_CHARS = 64 * 1024;

type Part = Record<string, unknown>;

function partsOf(message: Record<string, unknown>): Part[] {
  const parts: Part[] = [];
  const { content } = message;
  if (message.role === "tool") return [{ type: "tool_call_response", id: message.tool_call_id ?? null, response: content ?? null }];
  if (typeof content === "string") parts.push({ type: "text", content });
  else if (Array.isArray(content)) {
    for (const part of content as Array<Record<string, unknown>>) {
      if (part?.type === "text" || part?.type === "input_text") parts.push({ type: "text", content: part.text });
      else parts.push({ type: typeof part?.type === "string" ? part.type : "unknown" });
    }
  }
  if (typeof message.reasoning_content === "string") parts.push({ type: "reasoning", content: message.reasoning_content });
  for (const call of (message.tool_calls ?? []) as Array<{ id?: string; function?: { name?: string; arguments?: string } }>)
    parts.push({ type: "tool_call", id: call.id ?? null, name: call.function?.name ?? null, arguments: call.function?.arguments ?? null });
  return parts;
}

const capped = (text: string) => (text.length > MAX_CONTENT_CHARS ? text.slice(0, MAX_CONTENT_CHARS) : text);

export function inputMessages(messages: unknown[]): string {
  return capped(
    JSON.stringify(
      messages.map((message) => {
        const entry = (message ?? {}) as Record<string, unknown>;
        return { role: entry.role, parts: partsOf(entry) };
      }),
    ),
  );
}

export function outputMessages(choices: Array<{ message?: unknown; finish_reason?: unknown }>): string {
  return capped(
    JSON.stringify(
      choices.map((choice) => {
        const message = (choice.message ?? {}) as Record<string, unknown>;
        return { role: message.role ?? "assistant", parts: partsOf(message), finish_reason: choice.finish_reason ?? null };
      }),
    ),
  );
}
