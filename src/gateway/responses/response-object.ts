import { randomFillSync } from "node:crypto";
import type { ChatMessage, Usage } from "../../shared/wire.js";
import type { ResponsesRequest } from "./request-to-chat.js";

const ID_BYTES = 24;
/**
 * Random bytes drawn 256 ids at a time (as crypto.randomUUID does): a randomBytes() call per id
 * cost 5 % of the event loop on /v1/responses, which makes two ids per response.
 */
const idPool = Buffer.alloc(ID_BYTES * 256);
let idOffset = idPool.length;

export function newId(prefix: "resp" | "msg" | "fc"): string {
  if (idOffset + ID_BYTES > idPool.length) {
    randomFillSync(idPool);
    idOffset = 0;
  }
  const id = `${prefix}_${idPool.toString("hex", idOffset, idOffset + ID_BYTES)}`;
  idOffset += ID_BYTES;
  return id;
}

export interface OutputText {
  type: "output_text";
  text: string;
  annotations: unknown[];
}

export type OutputItem =
  | { type: "message"; id: string; status: "in_progress" | "completed"; role: "assistant"; content: OutputText[] }
  | { type: "function_call"; id: string; call_id: string; name: string; arguments: string; status: "in_progress" | "completed" };

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export interface ResponseObject {
  id: string;
  object: "response";
  created_at: number;
  status: "in_progress" | "completed" | "incomplete" | "failed";
  completed_at?: number;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: string } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  model: string;
  output: OutputItem[];
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  reasoning: { effort: string | null; summary: string | null };
  store: boolean;
  temperature: number;
  text: unknown;
  tool_choice: unknown;
  tools: unknown[];
  top_p: number;
  truncation: string;
  usage: ResponseUsage | null;
  user: string | null;
  metadata: Record<string, string>;
}

/** A response in progress, echoing the request's settings in the order the spec prints them. */
export function responseShell(request: ResponsesRequest, id: string, model: string, createdAt: number): ResponseObject {
  return {
    id,
    object: "response",
    created_at: createdAt,
    status: "in_progress",
    error: null,
    incomplete_details: null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    model,
    output: [],
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: request.previous_response_id ?? null,
    reasoning: { effort: request.reasoning?.effort ?? null, summary: null },
    store: request.store !== false,
    temperature: request.temperature ?? 1,
    text: request.text ?? { format: { type: "text" } },
    tool_choice: request.tool_choice ?? "auto",
    tools: request.tools ?? [],
    top_p: request.top_p ?? 1,
    truncation: "disabled",
    usage: null,
    user: request.user ?? null,
    metadata: request.metadata ?? {},
  };
}

export function toResponseUsage(usage: Usage | null | undefined): ResponseUsage | null {
  if (!usage) return null;
  const details = usage.completion_tokens_details as { reasoning_tokens?: number } | undefined;
  const cached = (usage.prompt_tokens_details as { cached_tokens?: number } | undefined)?.cached_tokens;
  return {
    input_tokens: usage.prompt_tokens,
    input_tokens_details: { cached_tokens: cached ?? 0 },
    output_tokens: usage.completion_tokens,
    output_tokens_details: { reasoning_tokens: details?.reasoning_tokens ?? 0 },
    total_tokens: usage.total_tokens,
  };
}

/** A chat answer → response output items: its text as a message, each tool call as a function_call. */
export function outputItems(message: ChatMessage | undefined): OutputItem[] {
  if (!message) return [];
  const items: OutputItem[] = [];
  const text = typeof message.content === "string" ? message.content : "";
  if (text)
    items.push({
      type: "message",
      id: newId("msg"),
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text, annotations: [] }],
    });
  for (const call of (message.tool_calls ?? []) as Array<{ id?: string; function?: { name?: string; arguments?: string } }>) {
    items.push({
      type: "function_call",
      id: newId("fc"),
      call_id: call.id ?? newId("fc"),
      name: call.function?.name ?? "",
      arguments: call.function?.arguments ?? "",
      status: "completed",
    });
  }
  return items;
}

/** Output items → the assistant message they stand for, to continue the conversation later. */
export function outputToMessages(output: OutputItem[]): ChatMessage[] {
  const text = output
    .filter((item) => item.type === "message")
    .flatMap((item) => item.content.map((part) => part.text))
    .join("");
  const calls = output
    .filter((item) => item.type === "function_call")
    .map((item) => ({ id: item.call_id, type: "function", function: { name: item.name, arguments: item.arguments } }));
  if (!text && calls.length === 0) return [];
  return [{ role: "assistant", content: text || null, ...(calls.length ? { tool_calls: calls } : {}) }];
}

/** Finish a response from its output and the chat's finish reason. */
export function completeResponse(
  response: ResponseObject,
  output: OutputItem[],
  usage: Usage | null,
  finishReason: string | null | undefined,
): ResponseObject {
  const truncated = finishReason === "length";
  return {
    ...response,
    status: truncated ? "incomplete" : "completed",
    incomplete_details: truncated ? { reason: "max_output_tokens" } : null,
    output,
    usage: toResponseUsage(usage),
  };
}
