import { providerDefinition } from "../providers/registry.js";

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

/** A ref whose first segment is a known provider id; undefined otherwise. */
export function parseModelRef(text: string, providerIds: ReadonlySet<string>): ModelRef | undefined {
  const value = text.trim();
  const slash = value.indexOf("/");
  if (slash <= 0 || slash === value.length - 1) return undefined;
  const provider = value.slice(0, slash);
  if (!providerIds.has(provider)) return undefined;
  const modelId = value.slice(slash + 1);
  const split = providerDefinition(provider).splitModelSuffix?.(modelId) ?? { baseId: modelId };
  return { provider, modelId, baseId: split.baseId, ...(split.suffix ? { suffix: split.suffix } : {}), ref: `${provider}/${modelId}` };
}

export function isProviderLocked(ref: ModelRef): boolean {
  return ref.suffix !== undefined && (providerDefinition(ref.provider).lockedSuffixes ?? []).includes(ref.suffix);
}
