import type { StatePaths } from "../config/paths.js";
import type { ModelDefinition, OpenClawConfig } from "../config/schema.js";
import { compact, displayNameFromId } from "../providers/model-fields.js";
import type { CatalogModel, Provider } from "../providers/provider.js";
import { DEFAULT_DISCOVERY_TTL_SECONDS, readDiscoveryCache, writeDiscoveryCache } from "./discovery-cache.js";

export type CatalogSource = "live" | "cached" | "builtin" | "config";

export interface ProviderCatalog {
  provider: string;
  source: CatalogSource;
  /** When the discovered list was fetched (live or cached). */
  fetchedAt?: number;
  stale?: boolean;
  /** Why discovery was not used, when it was not. */
  error?: string;
  /** Every model, before `teeOnly` filtering. */
  all: CatalogModel[];
  /** What the user may use. */
  models: CatalogModel[];
}

export type RefreshMode = "auto" | "force" | "offline";

export interface LoadCatalogOptions {
  config: OpenClawConfig;
  paths: StatePaths;
  providers: Provider[];
  apiKeyFor(provider: string): string | undefined;
  refresh?: RefreshMode;
  now?: () => number;
  warn?: (message: string) => void;
}

export interface LoadedCatalog {
  providers: Map<string, ProviderCatalog>;
  /** Stale lists being refreshed in the background; await it before a short-lived process exits. */
  refreshing: Promise<void>;
}

/** The user's `models.providers.<id>.models[]` entries win field by field, and are always kept. */
export function mergeUserModels(provider: string, base: CatalogModel[], user: ModelDefinition[] | undefined): CatalogModel[] {
  if (!user?.length) return base;
  const merged = new Map(base.map((model) => [model.id, model]));
  for (const entry of user) {
    const existing = merged.get(entry.id);
    merged.set(
      entry.id,
      compact({
        ...existing,
        provider,
        id: entry.id,
        name: entry.name ?? entry.alias ?? existing?.name ?? displayNameFromId(entry.id),
        contextWindow: entry.contextWindow ?? existing?.contextWindow,
        maxTokens: entry.maxTokens ?? existing?.maxTokens,
        cost: entry.cost ?? existing?.cost,
        input: entry.input ?? existing?.input ?? ["text"],
        reasoning: entry.reasoning ?? existing?.reasoning,
        tools: entry.tools ?? existing?.tools,
        confidentialCompute: entry.confidentialCompute ?? existing?.confidentialCompute,
      }),
    );
  }
  return [...merged.values()];
}

/**
 * Built-in catalog + discovered list (cached on disk for `models.discoveryTtlSeconds`,
 * default 4 h) + the user's entries. A stale cache is served at once and refreshed in the
 * background; a failed discovery falls back to the stale cache, else the built-in catalog,
 * with a one-line warning. Never throws for discovery problems.
 */
export async function loadCatalog(options: LoadCatalogOptions): Promise<LoadedCatalog> {
  const { config, paths } = options;
  const now = options.now ?? Date.now;
  const ttlMs = (config.models?.discoveryTtlSeconds ?? DEFAULT_DISCOVERY_TTL_SECONDS) * 1000;
  const refresh = options.refresh ?? "auto";
  const background: Promise<void>[] = [];

  const discover = async (provider: Provider): Promise<{ models: CatalogModel[]; fetchedAt: number } | { error: string }> => {
    const result = await provider.discoverModels({ apiKey: options.apiKeyFor(provider.id) });
    if (result.source === "builtin") return { error: result.error ?? "discovery failed" };
    const entry = { version: 1 as const, provider: provider.id, baseUrl: provider.baseUrl, fetchedAt: now(), models: result.models };
    await writeDiscoveryCache(paths, entry).catch((error: Error) =>
      options.warn?.(`could not write the ${provider.id} model cache: ${error.message}`),
    );
    return entry;
  };

  const one = async (provider: Provider): Promise<ProviderCatalog> => {
    const providerConfig = config.models?.providers?.[provider.id] ?? {};
    const finish = (base: CatalogModel[], fields: Omit<ProviderCatalog, "provider" | "all" | "models">): ProviderCatalog => {
      const all = mergeUserModels(provider.id, base, providerConfig.models);
      const models = providerConfig.teeOnly ? all.filter((model) => model.confidentialCompute === true) : all;
      return { provider: provider.id, ...fields, all, models };
    };
    if (config.models?.mode === "replace") return finish([], { source: "config" });

    const cached = await readDiscoveryCache(paths, provider.id, provider.baseUrl);
    const stale = cached !== undefined && now() - cached.fetchedAt >= ttlMs;
    if (refresh === "force" || (cached === undefined && refresh === "auto")) {
      const live = await discover(provider);
      if ("models" in live) return finish(live.models, { source: "live", fetchedAt: live.fetchedAt });
      const skipped = live.error === "no credential" || live.error.startsWith("discovery is off");
      if (!skipped)
        options.warn?.(`${provider.id} model discovery failed (${live.error}); using the ${cached ? "cached" : "built-in"} catalog`);
      if (cached) return finish(cached.models, { source: "cached", fetchedAt: cached.fetchedAt, stale, error: live.error });
      return finish([...provider.definition.builtinModels], { source: "builtin", error: live.error });
    }
    if (cached) {
      if (stale && refresh === "auto") {
        background.push(
          discover(provider).then(
            () => undefined,
            () => undefined,
          ),
        );
      }
      return finish(cached.models, { source: "cached", fetchedAt: cached.fetchedAt, stale });
    }
    return finish([...provider.definition.builtinModels], { source: "builtin", error: "offline" });
  };

  const catalogs = await Promise.all(options.providers.map(one));
  return {
    providers: new Map(catalogs.map((catalog) => [catalog.provider, catalog])),
    refreshing: Promise.all(background).then(() => undefined),
  };
}
