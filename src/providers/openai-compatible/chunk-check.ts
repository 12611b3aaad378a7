import { UpstreamError } from "../../shared/errors.js";
import type { ChatChunk, ChatCompletion } from "../../shared/wire.js";

/**
 * Tool-call indexes are array positions downstream (the relay assembles calls by index): an
 * upstream sending `index: 1e8` would make it allocate and scan a hundred-million-slot array.
 * No model calls more tools than this in one answer.
 */
export const MAX_TOOL_CALL_INDEX = 127;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const isOptionalString = (value: unknown) => value === undefined || value === null || typeof value === "string";

/**
 * More tokens than any request can use: a count above it (or negative, or not a finite number) is
 * not usage. Usage is charged to key budgets, summed into counters and priced, so `-3000000` would
 * hand a budget back and `1e308` would store an infinite cost.
 */
export const MAX_USAGE_TOKENS = 1_000_000_000;

const TOKEN_FIELDS = ["prompt_tokens", "completion_tokens", "total_tokens"] as const;
const DETAIL_FIELDS = [
  ["prompt_tokens_details", "cached_tokens"],
  ["completion_tokens_details", "reasoning_tokens"],
] as const;

const badCount = (value: unknown) =>
  value !== undefined && value !== null && (typeof value !== "number" || !(value >= 0 && value <= MAX_USAGE_TOKENS));

/** Why a usage object cannot be trusted for accounting; undefined when it can. */
export function usageProblem(usage: unknown): string | undefined {
  if (usage === undefined || usage === null) return undefined;
  if (!isObject(usage)) return "usage that is not an object";
  for (const field of TOKEN_FIELDS) if (badCount(usage[field])) return `usage.${field} that is not a token count (0..${MAX_USAGE_TOKENS})`;
  for (const [group, field] of DETAIL_FIELDS) {
    const details = usage[group];
    if (details === undefined || details === null) continue;
    if (!isObject(details)) return `usage.${group} that is not an object`;
    if (badCount(details[field])) return `usage.${group}.${field} that is not a token count (0..${MAX_USAGE_TOKENS})`;
  }
  return undefined;
}

/** Why a chunk does not have the shape the relay relies on; undefined when it does. Hand-written: it runs per token. */
export function chunkProblem(payload: unknown): string | undefined {
  if (!isObject(payload)) return "a stream event that is not a JSON object";
  const { choices, usage } = payload;
  if (usage !== undefined && usage !== null) {
    const problem = usageProblem(usage);
    if (problem) return problem;
  }
  if (choices === undefined || choices === null) return undefined;
  if (!Array.isArray(choices)) return "choices that is not a list";
  for (const choice of choices) {
    if (!isObject(choice)) return "a choice that is not an object";
    if (choice.index !== undefined && typeof choice.index !== "number") return "a choice index that is not a number";
    if (!isOptionalString(choice.finish_reason)) return "a finish_reason that is not a string";
    const delta = choice.delta;
    if (delta === undefined || delta === null) continue;
    if (!isObject(delta)) return "a delta that is not an object";
    if (!isOptionalString(delta.content)) return "delta content that is not a string";
    if (!isOptionalString(delta.reasoning_content)) return "delta reasoning that is not a string";
    const calls = delta.tool_calls;
    if (calls === undefined || calls === null) continue;
    if (!Array.isArray(calls)) return "tool_calls that is not a list";
    for (const call of calls) {
      if (!isObject(call)) return "a tool call that is not an object";
      const index = call.index;
      if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index > MAX_TOOL_CALL_INDEX)
        return `a tool call index out of range (0..${MAX_TOOL_CALL_INDEX})`;
      const fn = call.function;
      if (fn === undefined || fn === null) continue;
      if (!isObject(fn) || !isOptionalString(fn.name) || !isOptionalString(fn.arguments)) return "a tool call function of the wrong shape";
    }
  }
  return undefined;
}

/** A streamed chunk, checked once where it enters. */
export function checkChunk(providerId: string, payload: unknown): ChatChunk {
  const problem = chunkProblem(payload);
  if (problem) {
    throw new UpstreamError(`${providerId} sent ${problem} in its stream`, { status: 502, code: "upstream_bad_response", retryable: true });
  }
  return payload as ChatChunk;
}

/** A message a client can read: text (or null) content, and a list of tool calls if any. */
const messageProblem = (message: unknown): string | undefined => {
  if (message === undefined) return undefined;
  if (!isObject(message)) return "a message that is not an object";
  if (!isOptionalString(message.content) && !Array.isArray(message.content)) return "message content that is neither text nor a list";
  if (!isOptionalString(message.reasoning_content)) return "message reasoning that is not a string";
  const calls = message.tool_calls;
  if (calls !== undefined && calls !== null && (!Array.isArray(calls) || !calls.every(isObject)))
    return "tool_calls that is not a list of objects";
  return undefined;
};

/** Why a non-stream answer is not a chat completion the gateway can relay and account for. */
export function completionProblem(payload: unknown): string | undefined {
  const choices = isObject(payload) ? payload.choices : undefined;
  if (!Array.isArray(choices) || choices.length === 0) return "JSON that is not a chat completion (no choices)";
  for (const choice of choices) {
    if (!isObject(choice)) return "a chat completion with a choice that is not an object";
    const problem = messageProblem(choice.message);
    if (problem) return `a chat completion with ${problem}`;
  }
  const problem = usageProblem((payload as Record<string, unknown>).usage);
  return problem ? `a chat completion with ${problem}` : undefined;
}

/** A non-stream answer, checked where it enters: choices with readable messages, and usage fit for accounting. */
export function checkCompletion(providerId: string, payload: unknown): ChatCompletion {
  const problem = completionProblem(payload);
  if (problem)
    throw new UpstreamError(`${providerId} answered with ${problem}`, { status: 502, code: "upstream_bad_response", retryable: true });
  return payload as ChatCompletion;
}
