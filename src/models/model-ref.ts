import { providerDefinition } from "../providers/registry.js";
import { InvalidRequestError } from "../shared/errors.js";

/** Far above any real model id (the longest on Hugging Face are ~100 characters). */
export const MAX_MODEL_ID_LENGTH = 256;

/**
 * A model id as providers publish them: segments of letters, digits, `.`, `_`, `-` (and `+`, `@`)
 * separated by single `/`, no `.` or `..` segment, and `:` suffixes only on the last segment
 * (`Qwen/Qwen3-8B:cheapest`, `llama3:8b`). Model ids become URL paths (Hugging Face embeddings),
 * so nothing else gets in.
 */
const MODEL_ID = /^[A-Za-z0-9._+@-]+(?:\/[A-Za-z0-9._+@-]+)*(?::[A-Za-z0-9._+@-]+)*$/;

export function isModelId(id: string): boolean {
  if (id.length === 0 || id.length > MAX_MODEL_ID_LENGTH || !MODEL_ID.test(id)) return false;
  return !id.split(/[/:]/).some((segment) => segment === "." || segment === "..");
}

/** Refuse, with a 400, a model id that could not be one. */
export function assertModelId(id: string): void {
  if (isModelId(id)) return;
  const shown = id.length > 80 ? `${id.slice(0, 80)}…` : id;
  throw new InvalidRequestError(
    `invalid model id ${JSON.stringify(shown)}: expected segments of letters, digits, ".", "_", "-" separated by "/", at most ${MAX_MODEL_ID_LENGTH} characters`,
    { code: "invalid_model", param: "model" },
  );
}

/** `chutes/zai-org/GLM-4.7-TEE`, `huggingface/Qwen/Qwen3-8B:cheapest`. */
export interface ModelRef {
  provider: string;
  /** What the upstream receives as `model`, suffix included. */
  modelId: string;
  /** The catalog id: the model id without a routing suffix. */
  baseId: string;
  suffix?: string;
  /** The canonical `provider/modelId` string. */
  ref: string;
}

/** A ref whose first segment is a known provider id; undefined otherwise. Throws (400) when the model id is not one. */
export function parseModelRef(text: string, providerIds: ReadonlySet<string>): ModelRef | undefined {
  const value = text.trim();
  const slash = value.indexOf("/");
  if (slash <= 0 || slash === value.length - 1) return undefined;
  const provider = value.slice(0, slash);
  if (!providerIds.has(provider)) return undefined;
  const modelId = value.slice(slash + 1);
  assertModelId(modelId);
  const split = providerDefinition(provider).splitModelSuffix?.(modelId) ?? { baseId: modelId };
  return { provider, modelId, baseId: split.baseId, ...(split.suffix ? { suffix: split.suffix } : {}), ref: `${provider}/${modelId}` };
}

export function isProviderLocked(ref: ModelRef): boolean {
  return ref.suffix !== undefined && (providerDefinition(ref.provider).lockedSuffixes ?? []).includes(ref.suffix);
}
