import type { ModelListEntry } from "../../shared/wire.js";
import { compact, displayNameFromId, modalities, price, stringList, text, tokenCount } from "../model-fields.js";
import type { CatalogModel, ProviderDefinition, ProviderTransport } from "../provider.js";
import { CHUTES_BUILTIN_ALIASES, CHUTES_BUILTIN_MODELS, CHUTES_DEFAULT_MODEL } from "./chutes-catalog.js";
import { resolveChutesOAuthSettings } from "./chutes-oauth-settings.js";
import { chutesOnboarding } from "./chutes-onboarding.js";

const DEFAULT_CONTEXT_WINDOW = 128_000;
const DEFAULT_MAX_TOKENS = 4_096;

/** A chute id as `/v1/models` serves it (a UUID); anything else is dropped, as it ends up in URL paths. */
function chuteId(value: unknown): string | undefined {
  return typeof value === "string" && /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(value) ? value : undefined;
}

/** One `GET https://llm.chutes.ai/v1/models` entry → catalog model. TEE comes only from `confidential_compute`. */
export function mapChutesModel(entry: ModelListEntry, builtin: CatalogModel | undefined): CatalogModel {
  const pricing = (entry.pricing ?? {}) as Record<string, unknown>;
  const features = new Set(stringList(entry.supported_features) ?? []);
  const cost = compact({ input: price(pricing.prompt), output: price(pricing.completion), cacheRead: price(pricing.input_cache_read) });
  return compact({
    provider: "chutes",
    id: entry.id,
    name: text(entry.name) ?? builtin?.name ?? displayNameFromId(entry.id),
    contextWindow: tokenCount(entry.context_length) ?? tokenCount(entry.max_model_len) ?? builtin?.contextWindow ?? DEFAULT_CONTEXT_WINDOW,
    maxTokens: tokenCount(entry.max_output_length) ?? builtin?.maxTokens ?? DEFAULT_MAX_TOKENS,
    cost: Object.keys(cost).length ? cost : builtin?.cost,
    input: entry.input_modalities === undefined && builtin ? builtin.input : modalities(entry.input_modalities),
    reasoning: features.has("reasoning"),
    tools: features.has("tools"),
    structuredOutput: features.has("json_mode") || features.has("structured_outputs"),
    confidentialCompute: entry.confidential_compute === true,
    upstreamId: chuteId(entry.chute_id) ?? builtin?.upstreamId,
  });
}

export const chutesProvider: ProviderDefinition = {
  id: "chutes",
  label: "Chutes",
  defaultBaseUrl: "https://llm.chutes.ai/v1",
  builtinModels: CHUTES_BUILTIN_MODELS,
  builtinAliases: CHUTES_BUILTIN_ALIASES,
  defaultModel: CHUTES_DEFAULT_MODEL,
  credentialEnv: ["CHUTES_API_KEY", "CHUTES_OAUTH_TOKEN"],
  oauth: {
    settings: (config, env) => resolveChutesOAuthSettings(config, env),
    clientIdEnv: "CHUTES_CLIENT_ID",
    clientIdPrompt: "Chutes OAuth client id (cid_…; from your app at chutes.ai)",
  },
  onboarding: chutesOnboarding,
  requiresCredential: true,
  discoverWithoutCredential: true,
  mergeBuiltinOnDiscovery: false,
  mapModel: mapChutesModel,
  // Ask the server to enforce TEE-only too, so a stale catalog can never route around it.
  requestHeaders: (config): Record<string, string> => (config.teeOnly ? { "X-TEE-Only": "true" } : {}),
  // With `e2ee`, chat goes encrypted to attested enclaves only; the crypto is loaded on the first request.
  transport: (context) => {
    if (context.config.e2ee !== true) return undefined;
    let loaded: Promise<ProviderTransport> | undefined;
    return (request, sink, next) => {
      loaded ??= import("./tee/e2ee-transport.js").then((module) => module.createChutesE2eeTransport(context));
      loaded.then(
        (transport) => transport(request, sink, next),
        (error: Error) => {
          request.onSettled?.();
          sink.onError(error);
        },
      );
    };
  },
  // The attestation library (DCAP, ML-KEM, NRAS) is loaded only by what attests.
  attestation: {
    create: async (context) => (await import("./tee/chutes-attestation.js")).createChutesModelAttestor(context),
  },
};
