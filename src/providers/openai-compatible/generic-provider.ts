import type { ModelListEntry } from "../../shared/wire.js";
import { compact, modalities, text, tokenCount } from "../model-fields.js";
import type { CatalogModel, ProviderDefinition } from "../provider.js";

/** Any OpenAI-compatible server a user declares (OpenAI, OpenRouter, vLLM, Ollama…). */
export function genericProviderDefinition(id: string): ProviderDefinition {
  return {
    id,
    label: id,
    builtinModels: [],
    requiresCredential: false,
    discoverWithoutCredential: true,
    mergeBuiltinOnDiscovery: true,
    mapModel: (entry: ModelListEntry, builtin: CatalogModel | undefined): CatalogModel =>
      compact({
        provider: id,
        id: entry.id,
        name: text(entry.name) ?? builtin?.name ?? entry.id,
        contextWindow:
          tokenCount(entry.context_length) ?? tokenCount(entry.context_window) ?? tokenCount(entry.max_model_len) ?? builtin?.contextWindow,
        maxTokens: builtin?.maxTokens,
        input: builtin?.input ?? modalities((entry.architecture as { input_modalities?: unknown } | undefined)?.input_modalities),
      }),
  };
}
