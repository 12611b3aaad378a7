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

/** Why a chunk does not have the shape the relay relies on; undefined when it does. Hand-written: it runs per token. */
export function chunkProblem(payload: unknown): string | undefined {
  if (!isObject(payload)) return "a stream event that is not a JSON object";
  const { choices, usage } = payload;
  if (usage !== undefined && usage !== null) {
    if (!isObject(usage)) return "usage that is not an object";
    for (const field of ["prompt_tokens", "completion_tokens", "total_tokens"]) {
      const value = usage[field];
      if (value !== undefined && value !== null && typeof value !== "number") return `usage.${field} that is not a number`;
    }
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

/** A non-stream answer must at least carry its list of choices. */
export function checkCompletion(providerId: string, payload: unknown): ChatCompletion {
  const choices = isObject(payload) ? payload.choices : undefined;
  if (
    !Array.isArray(choices) ||
    choices.length === 0 ||
    !choices.every((choice) => isObject(choice) && (choice.message === undefined || isObject(choice.message)))
  ) {
    throw new UpstreamError(`${providerId} answered with JSON that is not a chat completion (no choices)`, {
      status: 502,
      code: "upstream_bad_response",
      retryable: true,
    });
  }
  return payload as ChatCompletion;
}
