import path from "node:path";
import type { CredentialStore, CredentialStoreData } from "../auth/credential-store.js";
import { needsRefresh, type RefreshLock, refreshMargin, refreshOAuthProfile } from "../auth/oauth/refresh.js";
import { type ResolvedCredential, resolveProviderCredential } from "../auth/resolve-credential.js";
import type { StatePaths } from "../config/paths.js";
import type { OpenClawConfig } from "../config/schema.js";
import type { CatalogModel, Provider } from "../providers/provider.js";
import {
  BUILTIN_PROVIDERS,
  type CreateProviderOptions,
  createProvider,
  knownProviderIds,
  providerDefinition,
} from "../providers/registry.js";
import { InvalidRequestError, NotFoundError, PermissionError, UpstreamError } from "../shared/errors.js";
import { readAttestationVerdicts, type StoredVerdict } from "../store/attestation-verdicts.js";
import { type AliasIndex, buildAliasIndex, lookupAlias } from "./aliases.js";
import { type LoadedCatalog, loadCatalog, type RefreshMode } from "./catalog.js";
import { type ModelRef, parseModelRef } from "./model-ref.js";

export interface ModelRuntimeOptions extends CreateProviderOptions {
  config: OpenClawConfig;
  paths: StatePaths;
  store: CredentialStoreData;
  /** Where OAuth profiles are refreshed (under its lock); without it, tokens are used as they are. */
  credentialStore?: CredentialStore;
  env?: NodeJS.ProcessEnv;
  warn?: (message: string) => void;
  /** The clock OAuth expiry is judged by. */
  now?: () => number;
  /** How long a request waits for an OAuth refresh before it is answered 503 (the refresh goes on). */
  refreshWaitMs?: number;
}

/** A request waits this long for a token refresh; the refresh itself may take far longer. */
const REFRESH_WAIT_MS = 10_000;
/** After a failed refresh, the IdP is asked again at most this often. */
const REFRESH_RETRY_MS = 30_000;

/** A refresh that failed without ending the sign-in: the gateway's client is not to blame (503, not 401). */
function refreshFailedError(profileId: string, cause: Error): UpstreamError {
  // Retryable: a model on another provider may still answer (the IdP is not asked again for a while).
  return new UpstreamError(`could not refresh the sign-in ${profileId} (${cause.message}); try again shortly`, {
    status: 503,
    code: "credential_refresh_failed",
    retryable: true,
    cause,
  });
}

/** Normalise `agents.defaults.model` (a string or `{ primary, fallbacks }`). */
export function modelSelection(model: string | { primary?: string; fallbacks?: string[] } | undefined): {
  primary?: string;
  fallbacks: string[];
} {
  if (typeof model === "string") return { primary: model, fallbacks: [] };
  return { ...(model?.primary ? { primary: model.primary } : {}), fallbacks: model?.fallbacks ?? [] };
}

/**
 * Everything needed to turn "chutes-fast" into a provider call: known providers, aliases,
 * credentials (resolved once), provider clients (created once), the catalog.
 */
export class ModelRuntime {
  readonly config: OpenClawConfig;
  readonly providerIds: ReadonlySet<string>;
  readonly aliases: AliasIndex;
  private readonly options: ModelRuntimeOptions;
  private readonly credentials = new Map<string, ResolvedCredential | undefined>();
  private readonly providers = new Map<string, Provider>();
  private catalogPromise: Promise<LoadedCatalog> | undefined;
  private modelIndex: Promise<Map<string, CatalogModel>> | undefined;
  private loadedIndex: Map<string, CatalogModel> | undefined;
  /** Bumped whenever the catalog is replaced, so callers can drop what they derived from it. */
  generation = 0;

  constructor(options: ModelRuntimeOptions) {
    this.options = options;
    this.config = options.config;
    this.providerIds = new Set(knownProviderIds(options.config));
    this.aliases = buildAliasIndex(options.config, this.providerIds);
  }

  credential(providerId: string): ResolvedCredential | undefined {
    if (!this.credentials.has(providerId)) {
      this.credentials.set(
        providerId,
        resolveProviderCredential({
          providerId,
          config: this.config,
          store: this.options.store,
          ...(this.options.env ? { env: this.options.env } : {}),
          ...(providerDefinition(providerId).credentialEnv ? { envVars: [...providerDefinition(providerId).credentialEnv!] } : {}),
        }),
      );
    }
    return this.credentials.get(providerId);
  }

  private readonly refreshing = new Map<string, Promise<void>>();
  /** When a refresh last failed without ending the sign-in: wait a little before trying again. */
  private readonly refreshFailed = new Map<string, { at: number; error: Error }>();

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /**
   * The provider's credential, with an OAuth access token refreshed first when it is about to
   * expire (once per process at a time; across processes the store's lock decides).
   */
  async freshCredential(providerId: string): Promise<ResolvedCredential | undefined> {
    const current = this.credential(providerId);
    const stored = current?.credential;
    if (!current?.profileId || stored?.type !== "oauth" || !this.options.credentialStore) return current;
    const now = this.now();
    if (!needsRefresh(stored, now)) return current;
    const expires = stored.expires ?? 0;
    const failed = this.refreshFailed.get(providerId);
    if (failed && now - failed.at < REFRESH_RETRY_MS) {
      // The IdP just failed: do not call it on every request. Use the token while it lasts.
      if (expires > now) return current;
      throw refreshFailedError(current.profileId, failed.error);
    }
    const pending = this.refreshing.get(providerId) ?? this.startRefresh(providerId, current.profileId, expires);
    // While the token still has a while to live, refresh in the background: a slow or hung IdP
    // must not hold requests up. Closer to expiry, wait for the new token, but not forever.
    if (expires - now > Math.min(60_000, refreshMargin(stored) / 2)) return current;
    const waitMs = this.options.refreshWaitMs ?? REFRESH_WAIT_MS;
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<"gave-up">((resolve) => {
      timer = setTimeout(() => resolve("gave-up"), waitMs);
    });
    try {
      if ((await Promise.race([pending, gaveUp])) === "gave-up") {
        if (expires > this.now()) return current;
        throw new UpstreamError(
          `the Chutes sign-in ${current.profileId} is being refreshed and the sign-in service is slow to answer: try again shortly`,
          { status: 503, code: "credential_refresh_pending", retryAfterSeconds: 5 },
        );
      }
    } finally {
      clearTimeout(timer);
    }
    return this.credential(providerId);
  }

  /**
   * One refresh per provider at a time. It runs to its end and stores its result even when every
   * caller has stopped waiting (the answer holds the only live refresh token).
   */
  private startRefresh(providerId: string, profileId: string, expires: number): Promise<void> {
    const pending = (async () => {
      try {
        const oauth = providerDefinition(providerId).oauth;
        if (!oauth) throw new Error(`${providerId} has no OAuth refresh`);
        const settings = oauth.settings(this.config, this.options.env);
        const refresh = (lock: RefreshLock | undefined) =>
          refreshOAuthProfile(this.options.credentialStore as CredentialStore, profileId, settings, () => this.now(), lock);
        // With Redis, replicas and CLIs on other machines refresh under one lock (loaded only then).
        const redisUrl = this.config.gateway?.state?.redis ?? ((this.options.env ?? process.env).OPENCLAW_REDIS_URL || undefined);
        const next = redisUrl
          ? await (await import("../backends/redis/redis-refresh-lock.js")).refreshWithRedisLock(redisUrl, refresh)
          : await refresh(undefined);
        if (next) this.options.store.profiles[profileId] = next;
        this.refreshFailed.delete(providerId);
      } catch (error) {
        // A refused grant ends the sign-in (already recorded in the store).
        if ((error as { code?: string }).code === "oauth_needs_signin") throw error;
        this.refreshFailed.set(providerId, { at: this.now(), error: error as Error });
        if (expires > this.now()) {
          this.options.warn?.(`could not refresh ${profileId} (${(error as Error).message}); using the current token until it expires`);
        }
        throw refreshFailedError(profileId, error as Error);
      } finally {
        this.credentials.delete(providerId);
        this.refreshing.delete(providerId);
      }
    })();
    // Callers that stopped waiting never see its failure: that must not be an unhandled rejection.
    pending.catch(() => undefined);
    this.refreshing.set(providerId, pending);
    return pending;
  }

  /** Resolves when no refresh is in flight: a process should await it before it exits. */
  async settleRefreshes(): Promise<void> {
    while (this.refreshing.size > 0) await Promise.allSettled([...this.refreshing.values()]);
  }

  provider(providerId: string): Provider {
    let provider = this.providers.get(providerId);
    if (!provider) {
      provider = createProvider(providerId, this.config.models?.providers?.[providerId], {
        ...this.options,
        configDir: path.dirname(this.options.paths.configPath),
      });
      this.providers.set(providerId, provider);
    }
    return provider;
  }

  /** Providers the user has set up (configured or holding a credential); all built-ins when none is. */
  activeProviderIds(): string[] {
    const active = [...this.providerIds].filter(
      (id) => this.config.models?.providers?.[id] !== undefined || this.credential(id) !== undefined,
    );
    return active.length ? active : Object.keys(BUILTIN_PROVIDERS);
  }

  /** An alias or a `provider/model` ref → a ref; a clear error otherwise. */
  resolveRef(input: string): ModelRef {
    const text = input.trim();
    const target = lookupAlias(this.aliases, text) ?? text;
    const ref = parseModelRef(target, this.providerIds);
    if (ref) return ref;
    const aliases = [...this.aliases.targets.keys()].slice(0, 5).join(", ");
    throw new NotFoundError(
      `unknown model ${JSON.stringify(input)}: use provider/model (e.g. chutes/zai-org/GLM-4.7-TEE) or an alias (${aliases}); providers: ${[...this.providerIds].join(", ")}`,
      { code: "model_not_found", param: "model" },
    );
  }

  /** The configured primary, else the default of the first built-in provider with a credential. */
  defaultModel(): string | undefined {
    const { primary } = modelSelection(this.config.agents?.defaults?.model);
    if (primary) return primary;
    for (const definition of Object.values(BUILTIN_PROVIDERS)) {
      if (definition.defaultModel && this.credential(definition.id)) return definition.defaultModel;
    }
    return undefined;
  }

  fallbacks(): string[] {
    return modelSelection(this.config.agents?.defaults?.model).fallbacks;
  }

  /** The model to try first, then the fallbacks, deduplicated. */
  modelChain(explicit?: string, fallbacks: string[] = this.fallbacks()): ModelRef[] {
    const first = explicit ?? this.defaultModel();
    if (!first) {
      throw new InvalidRequestError("no model chosen and no default model set: run `openclaw onboard`, or pass --model provider/model", {
        code: "model_not_set",
        param: "model",
      });
    }
    const chain: ModelRef[] = [];
    for (const input of [first, ...fallbacks]) {
      const ref = this.resolveRef(input);
      if (!chain.some((existing) => existing.ref === ref.ref)) chain.push(ref);
    }
    return chain;
  }

  catalog(refresh: RefreshMode = "auto", providerIds = this.activeProviderIds()): Promise<LoadedCatalog> {
    const load = () =>
      loadCatalog({
        config: this.config,
        paths: this.options.paths,
        providers: providerIds.map((id) => this.provider(id)),
        apiKeyFor: (id) => this.credential(id)?.secret,
        refresh,
        ...(this.options.warn ? { warn: this.options.warn } : {}),
      });
    if (refresh !== "auto") return load();
    this.catalogPromise ??= load();
    return this.catalogPromise;
  }

  /** Discover again (for long-running processes); the new catalog replaces the old when ready. */
  async refreshCatalog(): Promise<void> {
    const next = this.catalog("force");
    await next;
    this.catalogPromise = next;
    this.modelIndex = undefined;
    this.loadedIndex = undefined;
    this.generation++;
  }

  /**
   * Refuse what the provider's policy forbids: with `teeOnly`, a model the catalog does not
   * know to run in a TEE (the request also carries `X-TEE-Only` for the server to enforce).
   */
  async assertAllowed(ref: ModelRef): Promise<void> {
    if (!this.config.models?.providers?.[ref.provider]?.teeOnly) return;
    const catalog = (await this.catalog("auto", [ref.provider])).providers.get(ref.provider);
    const model = catalog?.all.find((entry) => entry.id === ref.baseId);
    if (model?.confidentialCompute === true) return;
    const why = model ? "is not a TEE (confidential compute) model" : "is not in the catalog, so it cannot be confirmed to run in a TEE";
    throw new PermissionError(`${ref.ref} ${why}, and models.providers.${ref.provider}.teeOnly is true`, {
      code: "tee_required",
      param: "model",
    });
  }

  /** `chain` without the models policy forbids; the first model's refusal is the error when it is refused. */
  async filterAllowed(chain: ModelRef[]): Promise<ModelRef[]> {
    const allowed: ModelRef[] = [];
    for (const ref of chain) {
      try {
        await this.assertAllowed(ref);
        allowed.push(ref);
      } catch (error) {
        if (ref === chain[0]) throw error;
      }
    }
    return allowed;
  }

  allowedChain(explicit?: string, fallbacks?: string[]): Promise<ModelRef[]> {
    return this.filterAllowed(this.modelChain(explicit, fallbacks));
  }

  /** The last attestation verdict of each model ref (`openclaw tee verify`), for display: never a reason to trust an instance. */
  attestationVerdicts(): Promise<Map<string, StoredVerdict>> {
    return readAttestationVerdicts(this.options.paths);
  }

  /** `provider/model` → catalog entry, for prices and flags (suffixes ignored). */
  async findModel(ref: ModelRef): Promise<CatalogModel | undefined> {
    const key = `${ref.provider}/${ref.baseId}`;
    if (this.loadedIndex) return this.loadedIndex.get(key);
    this.modelIndex ??= this.catalog().then((loaded) => {
      const index = new Map<string, CatalogModel>();
      for (const catalog of loaded.providers.values()) for (const model of catalog.all) index.set(`${model.provider}/${model.id}`, model);
      this.loadedIndex = index;
      return index;
    });
    return (await this.modelIndex).get(key);
  }
}
