import type { ServerResponse } from "node:http";
import type { ChunkSource } from "../providers/provider.js";
import type { ChatChunk, ChatMessage, ToolCallDelta, Usage } from "../shared/wire.js";
import { writeEvent } from "./sse.js";

/**
 * The transcript keeps at most this many characters of each text (answer, reasoning, all tool
 * arguments together): a model can stream for hours, the relay must not hold it all.
 */
export const MAX_TRANSCRIPT_CHARS = 1_000_000;

/** Append to a transcript text while it is under the cap. */
function keep(text: string, more: string): string {
  if (text.length >= MAX_TRANSCRIPT_CHARS) return text;
  return text.length + more.length <= MAX_TRANSCRIPT_CHARS ? text + more : text + more.slice(0, MAX_TRANSCRIPT_CHARS - text.length);
}

/** What a finished (or failed) stream produced, for the transcript. */
export interface StreamOutcome {
  message: ChatMessage;
  usage: Usage | null;
}

/**
 * The chunk's JSON with our `provider/model` name. An unchanged chunk is passed on as the
 * upstream wrote it, with only the model name swapped, to avoid re-serialising every token; the
 * two `"model":…` texts are built once per stream (per upstream name), not per token.
 */
function createRelabel(model: string, stream: ChunkSource): (chunk: ChatChunk, changed: boolean) => string {
  const ours = `"model":${JSON.stringify(model)}`;
  let upstream: string | undefined;
  let theirs = "";
  return (chunk, changed) => {
    const raw = changed ? undefined : stream.rawEvent?.(chunk);
    if (!changed && raw !== undefined && typeof chunk.model === "string") {
      if (chunk.model !== upstream) {
        upstream = chunk.model;
        theirs = `"model":${JSON.stringify(upstream)}`;
      }
      const at = raw.indexOf(theirs);
      if (at >= 0) return raw.slice(0, at) + ours + raw.slice(at + theirs.length);
    }
    chunk.model = model;
    return JSON.stringify(chunk);
  };
}

/**
 * Relay an upstream chat stream as OpenAI SSE, fixing what peers are known to get wrong:
 * the first delta carries `role`, a `finish_reason` chunk always arrives, the usage chunk
 * (empty `choices`) is sent when and only when the client asked for it, tool-call `index`es
 * and `reasoning_content` pass through untouched. Throws when the upstream fails mid-stream.
 */
export async function relayChatStream(
  response: ServerResponse,
  stream: ChunkSource,
  options: { model: string; includeUsage: boolean },
): Promise<StreamOutcome> {
  let roleSent = false;
  let finished = false;
  let usageSent = false;
  let usage: Usage | null = null;
  let last: ChatChunk | undefined;
  let content = "";
  let reasoning = "";
  let streamed = 0;
  let argumentChars = 0;
  const toolCalls: Array<{ id?: string; type: string; function: { name: string; arguments: string } }> = [];
  const relabel = createRelabel(options.model, stream);

  /** One chunk, synchronously; a promise only when the client needs to drain. */
  const handle = (chunk: ChatChunk): Promise<void> | undefined => {
    last = chunk;
    let changed = false;
    if (chunk.usage) usage = chunk.usage;
    const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
    if (choices.length === 0) {
      if (!chunk.usage || !options.includeUsage) return undefined;
      usageSent = true;
    } else if (!options.includeUsage && "usage" in chunk) {
      // Some upstreams report usage on every chunk; the client did not ask for it.
      delete chunk.usage;
      changed = true;
    }
    for (const choice of choices) {
      const delta = choice.delta ?? {};
      if (!roleSent && !delta.role) {
        delta.role = "assistant";
        choice.delta = delta;
        changed = true;
      }
      if (choice.finish_reason) finished = true;
      if (typeof delta.content === "string") {
        streamed += delta.content.length;
        content = keep(content, delta.content);
      }
      if (typeof delta.reasoning_content === "string") reasoning = keep(reasoning, delta.reasoning_content);
      for (const call of (delta.tool_calls ?? []) as ToolCallDelta[]) {
        toolCalls[call.index] ??= { type: "function", function: { name: "", arguments: "" } };
        const slot = toolCalls[call.index] as (typeof toolCalls)[number];
        if (call.id) slot.id = call.id;
        if (call.function?.name && slot.function.name.length < 256)
          slot.function.name = (slot.function.name + call.function.name).slice(0, 256);
        if (call.function?.arguments && argumentChars < MAX_TRANSCRIPT_CHARS) {
          slot.function.arguments = keep(slot.function.arguments, call.function.arguments);
          argumentChars += call.function.arguments.length;
        }
      }
    }
    if (choices.length > 0) roleSent = true;
    return writeEvent(response, relabel(chunk, changed));
  };

  for await (const chunk of stream) {
    const wait = handle(chunk);
    if (wait) await wait;
    // Whatever the same network read brought is handled now, without a promise per token.
    for (const next of stream.takeQueued?.() ?? []) {
      const more = handle(next);
      if (more) await more;
    }
  }

  const base = {
    id: last?.id ?? `chatcmpl-${Date.now()}`,
    object: "chat.completion.chunk",
    created: last?.created ?? Math.floor(Date.now() / 1000),
    model: options.model,
  };
  if (!finished) {
    await writeEvent(
      response,
      JSON.stringify({ ...base, choices: [{ index: 0, delta: roleSent ? {} : { role: "assistant" }, finish_reason: "stop" }] }),
    );
  }
  if (options.includeUsage && !usageSent && usage) await writeEvent(response, JSON.stringify({ ...base, choices: [], usage }));
  if (streamed > content.length)
    content += `\n[openclaw: transcript truncated; ${streamed - content.length} more characters were streamed]`;
  const message: ChatMessage = { role: "assistant", content: content || null };
  if (reasoning) message.reasoning_content = reasoning;
  if (toolCalls.length) message.tool_calls = toolCalls.filter(Boolean);
  return { message, usage };
}
