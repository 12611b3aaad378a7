import type { ModelListEntry } from "../../shared/wire.js";
import { compact, displayNameFromId, modalities, price, text, tokenCount } from "../model-fields.js";
import type { CatalogModel, ProviderDefinition } from "../provider.js";
import { defaultFeatureExtractionBase, featureExtraction } from "./feature-extraction.js";
import { HUGGINGFACE_BUILTIN_MODELS, HUGGINGFACE_DEFAULT_MODEL } from "./huggingface-catalog.js";
import { huggingfaceOnboarding } from "./huggingface-onboarding.js";

interface RouterBackend {
  provider?: unknown;
  status?: unknown;
  context_length?: unknown;
  pricing?: { input?: unknown; output?: unknown };
  supports_tools?: unknown;
  supports_structured_output?: unknown;
}

function firstDefined<T>(backends: RouterBackend[], read: (backend: RouterBackend) => T | undefined): T | undefined {
  for (const backend of backends) {
    const value = read(backend);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** One router `/v1/models` entry → catalog model; per-backend facts come from live backends first. */
export function mapHuggingFaceModel(entry: ModelListEntry, builtin: CatalogModel | undefined): CatalogModel {
  const all = (Array.isArray(entry.providers) ? entry.providers : []) as RouterBackend[];
  const backends = [...all.filter((b) => b.status === "live"), ...all.filter((b) => b.status !== "live")];
  const bool = (value: unknown) => (typeof value === "boolean" ? value : undefined);
  const inputPrice = firstDefined(backends, (b) => price(b.pricing?.input));
  const outputPrice = firstDefined(backends, (b) => price(b.pricing?.output));
  const live = backends.filter((b) => b.status === "live");
  const architecture = (entry.architecture ?? {}) as { input_modalities?: unknown };
  return compact({
    provider: "huggingface",
    id: entry.id,
    name: text(entry.name) ?? text(entry.title) ?? text(entry.display_name) ?? builtin?.name ?? displayNameFromId(entry.id),
    contextWindow: firstDefined(backends, (b) => tokenCount(b.context_length)) ?? builtin?.contextWindow,
    maxTokens: builtin?.maxTokens,
    cost: inputPrice === undefined && outputPrice === undefined ? builtin?.cost : compact({ input: inputPrice, output: outputPrice }),
    input: architecture.input_modalities === undefined && builtin ? builtin.input : modalities(architecture.input_modalities),
    reasoning: builtin?.reasoning,
    tools: live.some((b) => b.supports_tools === true) || (firstDefined(backends, (b) => bool(b.supports_tools)) ?? builtin?.tools),
    structuredOutput:
      live.some((b) => b.supports_structured_output === true) || firstDefined(backends, (b) => bool(b.supports_structured_output)),
    backends: live.map((b) => String(b.provider)).filter(Boolean),
  });
}

const POLICY_SUFFIXES = ["fastest", "cheapest", "preferred"];

export const huggingfaceProvider: ProviderDefinition = {
  id: "huggingface",
  label: "Hugging Face",
  defaultBaseUrl: "https://router.huggingface.co/v1",
  builtinModels: HUGGINGFACE_BUILTIN_MODELS,
  defaultModel: HUGGINGFACE_DEFAULT_MODEL,
  // The guide: without a token only the built-in catalog is used.
  credentialEnv: ["HF_TOKEN", "HUGGINGFACE_HUB_TOKEN"],
  requiresCredential: true,
  discoverWithoutCredential: false,
  mergeBuiltinOnDiscovery: true,
  mapModel: mapHuggingFaceModel,
  onboarding: huggingfaceOnboarding,
  // `:fastest`, `:cheapest`, `:preferred` or `:<backend>` travel to the router inside the model id.
  splitModelSuffix(modelId) {
    const colon = modelId.lastIndexOf(":");
    if (colon <= modelId.lastIndexOf("/") || colon === modelId.length - 1) return { baseId: modelId };
    return { baseId: modelId.slice(0, colon), suffix: modelId.slice(colon + 1) };
  },
  lockedSuffixes: POLICY_SUFFIXES.filter((suffix) => suffix !== "preferred"),
  embed: ({ client, config, baseUrl }, request, options) =>
    featureExtraction(client, config.embeddingsBaseUrl ?? defaultFeatureExtractionBase(baseUrl), request, options),
};
