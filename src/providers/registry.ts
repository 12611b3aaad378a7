import type { StatePaths } from "../config/paths.js";
import type { OpenClawConfig, ProviderConfig } from "../config/schema.js";
import { ConfigError, UpstreamError } from "../shared/errors.js";
import { toStoredVerdict, verdictRecorder } from "../store/attestation-verdicts.js";
import { chutesProvider } from "./chutes/chutes-provider.js";
import { huggingfaceProvider } from "./huggingface/huggingface-provider.js";
import { type ClientOptions, OpenAICompatibleClient } from "./openai-compatible/client.js";
import { genericProviderDefinition } from "./openai-compatible/generic-provider.js";
import type { CallOptions, CatalogModel, DiscoveryResult, Provider, ProviderDefinition } from "./provider.js";

export const BUILTIN_PROVIDERS: Readonly<Record<string, ProviderDefinition>> = {
  chutes: chutesProvider,
  huggingface: huggingfaceProvider,
};

export function providerDefinition(id: string): ProviderDefinition {
  return BUILTIN_PROVIDERS[id] ?? genericProviderDefinition(id);
}

/** Every provider id a model ref may start with: the built-in ones and those in the config. */
export function knownProviderIds(config: OpenClawConfig): string[] {
  return [...new Set([...Object.keys(BUILTIN_PROVIDERS), ...Object.keys(config.models?.providers ?? {})])];
}

const DISCOVERY_TIMEOUT_MS = 10_000;

export interface CreateProviderOptions {
  dispatcher?: ClientOptions["dispatcher"];
  /** Default upstream timeout when the provider sets none (gateway.http.upstreamTimeoutMs). */
  timeoutMs?: number;
  /** gateway.http.upstreamMaxConnections / upstreamQueueTimeoutMs / maxUpstreamBodyBytes. */
  upstream?: Pick<ClientOptions, "maxConnections" | "queueTimeoutMs" | "maxBodyBytes">;
  /** Where relative paths in the provider's config are resolved (the config file's directory). */
  configDir?: string;
  /** The state dir: attestation verdicts made on real traffic are kept there (`<state>/tee/attestations.json`). */
  paths?: StatePaths;
}

export function createProvider(id: string, config: ProviderConfig = {}, options: CreateProviderOptions = {}): Provider {
  const definition = providerDefinition(id);
  const baseUrl = config.baseUrl ?? definition.defaultBaseUrl;
  if (!baseUrl)
    throw new ConfigError(`provider ${id} has no baseUrl: set models.providers.${id}.baseUrl`, { code: "provider_base_url_missing" });
  const clientOptions: ClientOptions = {
    providerId: id,
    baseUrl,
    headers: { ...definition.requestHeaders?.(config), ...config.headers },
    ...((config.timeoutMs ?? options.timeoutMs) ? { timeoutMs: config.timeoutMs ?? options.timeoutMs } : {}),
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    ...options.upstream,
  };
  const { paths } = options;
  const transport = definition.transport?.({
    providerId: id,
    config,
    baseUrl,
    configDir: options.configDir ?? process.cwd(),
    ...(paths ? { onAttestation: (modelId, report) => verdictRecorder(paths).record(`${id}/${modelId}`, toStoredVerdict(report)) } : {}),
  });
  const client = new OpenAICompatibleClient(transport ? { ...clientOptions, transport } : clientOptions);
  let embeddingsClient: OpenAICompatibleClient | undefined;
  const builtin = new Map(definition.builtinModels.map((model) => [model.id, model]));
  const fallback = (error: string): DiscoveryResult => ({ models: [...definition.builtinModels], source: "builtin", error });

  async function list(callOptions: CallOptions): Promise<CatalogModel[]> {
    const signal = AbortSignal.any([
      AbortSignal.timeout(Math.min(config.timeoutMs ?? DISCOVERY_TIMEOUT_MS, DISCOVERY_TIMEOUT_MS)),
      ...(callOptions.signal ? [callOptions.signal] : []),
    ]);
    try {
      return (await client.listModels({ ...callOptions, signal }))
        .map((entry) => definition.mapModel(entry, builtin.get(entry.id)))
        .filter((m) => m !== undefined);
    } catch (error) {
      // A key that is wrong for listing must not hide the public catalog: retry once without it.
      if (error instanceof UpstreamError && error.upstreamStatus === 401 && callOptions.apiKey)
        return list({ ...callOptions, apiKey: undefined });
      throw error;
    }
  }

  return {
    id,
    definition,
    baseUrl,
    async discoverModels(callOptions) {
      if (config.discovery === false) return fallback(`discovery is off (models.providers.${id}.discovery)`);
      if (!callOptions.apiKey && !definition.discoverWithoutCredential) return fallback("no credential");
      let models: CatalogModel[];
      try {
        models = await list(callOptions);
      } catch (error) {
        return fallback(error instanceof Error ? error.message : String(error));
      }
      if (models.length === 0) return fallback(`${id} returned an empty model list`);
      if (definition.mergeBuiltinOnDiscovery) {
        const seen = new Set(models.map((model) => model.id));
        models.push(...definition.builtinModels.filter((model) => !seen.has(model.id)));
      }
      return { models, source: "live" };
    },
    chat: (request, callOptions) => client.chat(request, callOptions),
    chatStream: (request, callOptions) => client.chatStream(request, callOptions),
    embed: (request, callOptions) => {
      if (definition.embed) return definition.embed({ client, config, baseUrl }, request, callOptions);
      if (!embeddingsClient) {
        embeddingsClient = config.embeddingsBaseUrl
          ? new OpenAICompatibleClient({ ...clientOptions, baseUrl: config.embeddingsBaseUrl })
          : client;
      }
      return embeddingsClient.embeddings(request, callOptions);
    },
  };
}
