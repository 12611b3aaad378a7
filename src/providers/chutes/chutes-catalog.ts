import type { CatalogModel } from "../provider.js";

/**
 * Used when discovery is unavailable: the eight models of the Chutes docs' built-in
 * catalog, plus the ones the other Chutes guides name. TEE flags are Chutes' published
 * `confidential_compute` values; prices are left out rather than guessed.
 */
const tee = (id: string, name: string, contextWindow: number, extra: Partial<CatalogModel> = {}): CatalogModel => ({
  provider: "chutes",
  id,
  name,
  contextWindow,
  maxTokens: 65_536,
  input: ["text"],
  tools: true,
  confidentialCompute: true,
  ...extra,
});

const standard = (id: string, name: string, contextWindow: number, extra: Partial<CatalogModel> = {}): CatalogModel =>
  tee(id, name, contextWindow, { confidentialCompute: false, maxTokens: 32_768, ...extra });

export const CHUTES_BUILTIN_MODELS: readonly CatalogModel[] = [
  tee("zai-org/GLM-4.7-TEE", "GLM 4.7 TEE", 202_752, { reasoning: true }),
  tee("zai-org/GLM-5-TEE", "GLM 5 TEE", 202_752, { reasoning: true }),
  tee("deepseek-ai/DeepSeek-V3.2-TEE", "DeepSeek V3.2 TEE", 202_752, { reasoning: true }),
  tee("deepseek-ai/DeepSeek-R1-0528-TEE", "DeepSeek R1 0528 TEE", 163_840, { reasoning: true }),
  tee("moonshotai/Kimi-K2.5-TEE", "Kimi K2.5 TEE", 262_144, { input: ["text", "image"], reasoning: true }),
  standard("chutesai/Mistral-Small-3.2-24B-Instruct-2506", "Mistral Small 3.2 24B", 131_072, { input: ["text", "image"] }),
  tee("Qwen/Qwen3-Coder-Next-TEE", "Qwen3 Coder Next TEE", 262_144),
  tee("openai/gpt-oss-120b-TEE", "GPT-OSS 120B TEE", 131_072, { reasoning: true }),
  tee("Qwen/Qwen3-235B-A22B-Instruct-2507-TEE", "Qwen3 235B A22B Instruct TEE", 262_144),
  tee("mistralai/Mistral-Small-24B-Instruct-2501-TEE", "Mistral Small 24B TEE", 131_072),
  standard("zai-org/GLM-4.7-Flash", "GLM 4.7 Flash", 131_072),
  standard("zai-org/GLM-4.7-FP8", "GLM 4.7 FP8", 202_752, { reasoning: true }),
  standard("chutesai/Mistral-Small-3.1-24B-Instruct-2503", "Mistral Small 3.1 24B", 131_072, { input: ["text", "image"] }),
  standard("NousResearch/Hermes-4-14B", "Hermes 4 14B", 40_960),
];

/** The Chinese Chutes guide (002) is the most complete and the latest: its aliases win. */
export const CHUTES_BUILTIN_ALIASES: Readonly<Record<string, string>> = {
  "chutes-fast": "chutes/zai-org/GLM-4.7-FP8",
  "chutes-pro": "chutes/deepseek-ai/DeepSeek-V3.2-TEE",
  "chutes-vision": "chutes/chutesai/Mistral-Small-3.2-24B-Instruct-2506",
};

export const CHUTES_DEFAULT_MODEL = "chutes/zai-org/GLM-4.7-TEE";
