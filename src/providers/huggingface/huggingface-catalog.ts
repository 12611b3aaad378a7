import type { CatalogModel } from "../provider.js";

/** The models the Hugging Face guide lists, used until (or when) discovery answers. */
const model = (id: string, name: string, contextWindow: number, extra: Partial<CatalogModel> = {}): CatalogModel => ({
  provider: "huggingface",
  id,
  name,
  contextWindow,
  maxTokens: 8_192,
  input: ["text"],
  tools: true,
  ...extra,
});

export const HUGGINGFACE_BUILTIN_MODELS: readonly CatalogModel[] = [
  model("deepseek-ai/DeepSeek-R1", "DeepSeek R1", 131_072, { reasoning: true }),
  model("deepseek-ai/DeepSeek-V3.2", "DeepSeek V3.2", 163_840),
  model("Qwen/Qwen3-8B", "Qwen3 8B", 40_960, { reasoning: true }),
  model("Qwen/Qwen2.5-7B-Instruct", "Qwen2.5 7B Instruct", 32_768),
  model("Qwen/Qwen3-32B", "Qwen3 32B", 40_960, { reasoning: true }),
  model("meta-llama/Llama-3.3-70B-Instruct", "Llama 3.3 70B Instruct", 131_072),
  model("meta-llama/Llama-3.1-8B-Instruct", "Llama 3.1 8B Instruct", 131_072),
  model("openai/gpt-oss-120b", "GPT-OSS 120B", 131_072, { reasoning: true }),
  model("zai-org/GLM-4.7", "GLM 4.7", 202_752, { reasoning: true }),
  model("moonshotai/Kimi-K2.5", "Kimi K2.5", 262_144, { input: ["text", "image"] }),
];

export const HUGGINGFACE_DEFAULT_MODEL = "huggingface/deepseek-ai/DeepSeek-R1";
