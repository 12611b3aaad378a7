import { InvalidRequestError } from "../../shared/errors.js";
import type { ChatMessage } from "../../shared/wire.js";

/** A `/v1/responses` request, typed as far as we translate it; other fields pass through. */
export interface ResponsesRequest {
  model: string;
  input?: unknown;
  instructions?: string | null;
  previous_response_id?: string | null;
  tools?: unknown[];
  tool_choice?: unknown;
  max_output_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  text?: { format?: { type?: string; name?: string; schema?: unknown; strict?: boolean; description?: string } } | null;
  metadata?: Record<string, string> | null;
  user?: string | null;
  store?: boolean | null;
  stream?: boolean | null;
  parallel_tool_calls?: boolean | null;
  reasoning?: { effort?: string | null } | null;
  [field: string]: unknown;
}

/** Fields this module consumes; anything else is handed to the chat request unchanged. */
const CONSUMED = new Set([
  "model",
  "input",
  "instructions",
  "previous_response_id",
  "tools",
  "tool_choice",
  "max_output_tokens",
  "text",
  "metadata",
  "store",
  "stream",
  "reasoning",
  "truncation",
  "include",
  "background",
  "stream_options",
]);

const bad = (message: string, param: string) => new InvalidRequestError(message, { param, code: "invalid_value" });

function contentPart(part: unknown, path: string): unknown {
  if (typeof part !== "object" || part === null) throw bad(`${path} must be an object`, path);
  const { type } = part as { type?: string };
  switch (type) {
    case "input_text":
    case "output_text":
    case "text":
      return { type: "text", text: String((part as { text?: unknown }).text ?? "") };
    case "input_image": {
      const { image_url: url, detail } = part as { image_url?: unknown; detail?: string };
      if (typeof url !== "string") throw bad(`${path}.image_url must be a URL or a data: URL (file ids are not supported)`, path);
      return { type: "image_url", image_url: { url, ...(detail ? { detail } : {}) } };
    }
    default:
      throw bad(`${path}: content type ${JSON.stringify(type)} is not supported (use input_text or input_image)`, path);
  }
}

function messageContent(content: unknown, path: string): unknown {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw bad(`${path} must be a string or a list of content parts`, path);
  const parts = content.map((part, index) => contentPart(part, `${path}[${index}]`));
  // Plain text stays a string: every OpenAI-compatible server takes that.
  return parts.every((part) => (part as { type: string }).type === "text")
    ? parts.map((part) => (part as { text: string }).text).join("")
    : parts;
}

/** `input` (a string, or a list of items) → chat messages. */
export function inputToMessages(input: unknown): ChatMessage[] {
  if (input === undefined || input === null) return [];
  if (typeof input === "string") return [{ role: "user", content: input }];
  if (!Array.isArray(input)) throw bad("input must be a string or a list of items", "input");
  const messages: ChatMessage[] = [];
  for (const [index, raw] of input.entries()) {
    const path = `input[${index}]`;
    if (typeof raw !== "object" || raw === null) throw bad(`${path} must be an object`, path);
    const item = raw as Record<string, unknown>;
    const type = item.type ?? (item.role ? "message" : undefined);
    if (type === "message") {
      const role = item.role === "developer" ? "system" : item.role;
      if (typeof role !== "string" || !["user", "assistant", "system"].includes(role))
        throw bad(`${path}.role must be user, assistant, system or developer`, path);
      messages.push({ role, content: messageContent(item.content, `${path}.content`) });
    } else if (type === "function_call") {
      if (typeof item.call_id !== "string" || typeof item.name !== "string") throw bad(`${path} needs call_id and name`, path);
      const call = {
        id: item.call_id,
        type: "function",
        function: { name: item.name, arguments: typeof item.arguments === "string" ? item.arguments : "{}" },
      };
      const previous = messages[messages.length - 1];
      // Parallel calls from one turn belong to one assistant message.
      if (previous?.role === "assistant" && Array.isArray(previous.tool_calls) && !previous.content)
        (previous.tool_calls as unknown[]).push(call);
      else messages.push({ role: "assistant", content: null, tool_calls: [call] });
    } else if (type === "function_call_output") {
      if (typeof item.call_id !== "string") throw bad(`${path}.call_id is required`, path);
      const output = typeof item.output === "string" ? item.output : JSON.stringify(item.output ?? "");
      messages.push({ role: "tool", tool_call_id: item.call_id, content: output });
    } else if (type === "reasoning") {
      // Reasoning summaries are the model's own notes; chat models do not take them back.
    } else {
      throw bad(`${path}: item type ${JSON.stringify(type)} is not supported`, path);
    }
  }
  return messages;
}

function chatTools(tools: unknown[] | undefined): unknown[] | undefined {
  if (tools !== undefined && tools !== null && !Array.isArray(tools)) throw bad("tools must be a list of function tools", "tools");
  if (!tools?.length) return undefined;
  return tools.map((tool, index) => {
    const { type, name, description, parameters, strict } = (tool ?? {}) as Record<string, unknown>;
    if (type !== "function")
      throw bad(`tools[${index}]: only function tools are supported, not ${JSON.stringify(type)}`, `tools[${index}]`);
    if (typeof name !== "string") throw bad(`tools[${index}].name is required`, `tools[${index}]`);
    return {
      type: "function",
      function: {
        name,
        ...(description ? { description } : {}),
        ...(parameters ? { parameters } : {}),
        ...(strict !== undefined ? { strict } : {}),
      },
    };
  });
}

function chatToolChoice(choice: unknown): unknown {
  if (choice === undefined || choice === null || typeof choice === "string") return choice ?? undefined;
  const { type, name } = choice as { type?: string; name?: string };
  if (type === "function" && name) return { type: "function", function: { name } };
  throw bad("tool_choice must be auto, none, required, or {type: function, name}", "tool_choice");
}

function responseFormat(format: NonNullable<ResponsesRequest["text"]>["format"]): unknown {
  if (!format || format.type === "text" || format.type === undefined) return undefined;
  if (format.type === "json_object") return { type: "json_object" };
  if (format.type === "json_schema") {
    return {
      type: "json_schema",
      json_schema: {
        name: format.name ?? "response",
        schema: format.schema,
        ...(format.strict !== undefined ? { strict: format.strict } : {}),
        ...(format.description ? { description: format.description } : {}),
      },
    };
  }
  throw bad(`text.format.type ${JSON.stringify(format.type)} is not supported`, "text.format");
}

/** The chat-completions fields for a responses request (without model and messages). */
export function chatFields(request: ResponsesRequest): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(request)) if (!CONSUMED.has(key) && value !== undefined && value !== null) fields[key] = value;
  const tools = chatTools(request.tools);
  if (tools) fields.tools = tools;
  const toolChoice = chatToolChoice(request.tool_choice);
  if (toolChoice !== undefined) fields.tool_choice = toolChoice;
  if (typeof request.max_output_tokens === "number") fields.max_tokens = request.max_output_tokens;
  const format = responseFormat(request.text?.format);
  if (format) fields.response_format = format;
  if (request.reasoning?.effort) fields.reasoning_effort = request.reasoning.effort;
  return fields;
}
