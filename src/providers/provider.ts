import type { OAuthSettings } from "../auth/oauth/oauth-settings.js";
import type { OpenClawConfig, ProviderConfig } from "../config/schema.js";
import type {
  AttestationReceipt,
  ChatChunk,
  ChatCompletion,
  ChatCompletionRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
  ModelListEntry,
} from "../shared/wire.js";

export type { AttestationReceipt } from "../shared/wire.js";

/**
 * The provider specification: types only. Implementations (the shared OpenAI-compatible client,
 * Chutes, Hugging Face) depend on it, never the other way.
 */

/** Per-call settings and per-request hooks. */
export interface CallOptions {
  apiKey?: string | undefined;
  signal?: AbortSignal | undefined;
  headers?: Record<string, string> | undefined;
  /** Called before the first byte of an answer served by an attested enclave (E2EE), with its receipt. */
  onReceipt?: ((receipt: AttestationReceipt) => void) | undefined;
}

/** One upstream request as the shared client would send it to `{baseUrl}{path}`. */
export interface TransportRequest {
  /** `{baseUrl}{path}`, e.g. `https://llm.chutes.ai/v1/chat/completions`. */
  url: URL;
  method: "GET" | "POST";
  headers: Record<string, string>;
  body: string | Uint8Array | null;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Called once when the exchange is over (ended, failed or aborted). */
  onSettled?: (() => void) | undefined;
  onReceipt?: ((receipt: AttestationReceipt) => void) | undefined;
}

export interface TransportControl {
  pause(): void;
  resume(): void;
  abort(reason?: Error): void;
}

/** Where a transport delivers the answer: status and headers, then body bytes (plaintext, whatever travelled). */
export interface TransportSink {
  onStart(status: number, headers: Record<string, string | string[] | undefined>, control: TransportControl): void;
  onData(chunk: Buffer): void;
  onEnd(): void;
  onError(error: Error): void;
}

export type SendRequest = (request: TransportRequest, sink: TransportSink) => void;

/**
 * Sends a request some other way than plain HTTP to `{baseUrl}{path}` (an encrypted relay, another
 * API's shape), or hands it to `next` (plain HTTP). The shared client keeps doing error mapping,
 * SSE decoding, stream repairs, scrubbing, bounds and abort on whatever the sink receives.
 */
export type ProviderTransport = (request: TransportRequest, sink: TransportSink, next: SendRequest) => void;

/** What a provider's own HTTP calls go through (the shared client), for hooks such as `embed`. */
export interface ProviderHttpClient {
  json<T>(method: "GET" | "POST", path: string, body: unknown, options: CallOptions): Promise<T>;
}

/** A stream of chunks that can also hand over, in one go, what it has already received. */
export interface ChunkSource extends AsyncIterable<ChatChunk> {
  /** The chunks already received and not yet taken (a relay writes them in one turn). */
  takeQueued?(): ChatChunk[];
  /** The event's text as the upstream sent it, for a relay that passes an unchanged chunk on without re-serialising it. */
  rawEvent?(chunk: ChatChunk): string | undefined;
}

/** What we know about one model, whichever way we learnt it. Costs are USD per 1M tokens. */
export interface CatalogModel {
  provider: string;
  /** The upstream model id, without any routing suffix. */
  id: string;
  name: string;
  contextWindow?: number;
  maxTokens?: number;
  cost?: { input?: number; output?: number; cacheRead?: number; cacheWrite?: number };
  input: string[];
  reasoning?: boolean;
  tools?: boolean;
  structuredOutput?: boolean;
  /** Runs in a Trusted Execution Environment (as the provider declares it; not a proof). */
  confidentialCompute?: boolean;
  /** The provider's own id for what serves the model (Chutes: the `chute_id` its E2EE and evidence routes take). */
  upstreamId?: string;
  /** Hugging Face: the inference backends serving it, live ones first. */
  backends?: string[];
}

export interface DiscoveryResult {
  models: CatalogModel[];
  source: "live" | "builtin";
  /** Why the built-in catalog was used, when discovery failed. */
  error?: string;
}

/** One named check of an attestation: what was expected, what was seen. */
export interface AttestationCheck {
  name: string;
  ok: boolean;
  expected: string;
  seen: string;
  detail?: string;
}

/** One serving instance's verdict; it may be used only when `ok`. */
export interface AttestedInstance {
  instanceId: string;
  ok: boolean;
  checks: AttestationCheck[];
  /** SHA-256 of the hardware quote that was verified (hex): what a receipt points at. */
  quoteSha256?: string;
  tcbStatus?: string;
  /** The accepted measurement (name and version) the instance matched. */
  measurement?: string;
}

/** Whether what serves a model runs in a verified Trusted Execution Environment, instance by instance. */
export interface AttestationReport {
  /** What was attested, in the provider's terms (Chutes: the chute id or name). */
  target: string;
  ok: boolean;
  /** Epoch ms. */
  verifiedAt: number;
  /** Epoch ms after which the verdict is no longer relied on. */
  expiresAt: number;
  instances: AttestedInstance[];
  /** Why nothing could be checked (service unreachable, refused...). */
  error?: { message: string; status?: number };
  /** One line naming the failed check, when not `ok`. */
  failure?: string;
}

export interface AttestationContext {
  config: ProviderConfig;
  /** Where relative paths in the provider's config are resolved (the config file's directory). */
  configDir: string;
  /** The provider credential, asked before each verification (it may be refreshed). */
  credential: () => Promise<string>;
  fetch?: typeof fetch;
  now?: () => number;
}

export interface TransportContext {
  providerId: string;
  config: ProviderConfig;
  baseUrl: string;
  /** Where relative paths in the provider's config are resolved. */
  configDir: string;
  /** Each attestation verdict the transport makes, for the model (upstream id) it was made for; must stay cheap. */
  onAttestation?: ((modelId: string, report: AttestationReport) => void) | undefined;
}

export interface ModelAttestor {
  /** Attest what serves `model`; fresh skips the cache. Never throws for a refusal: the report says why. */
  verify(model: Pick<CatalogModel, "id" | "upstreamId">, options?: { signal?: AbortSignal; fresh?: boolean }): Promise<AttestationReport>;
}

/** One way to sign in to a provider at onboarding (`--auth-choice <id>`). */
export interface OnboardingAuthChoice {
  /** The `--auth-choice` value, e.g. `chutes-api-key`. */
  id: string;
  label: string;
  hint?: string;
  /** `oauth` goes through the definition's `oauth` hook; `api-key` takes a pasted secret. */
  kind: "api-key" | "oauth";
  /** api-key: the CLI flag carrying the secret (`--chutes-api-key`) and its option name (`chutesApiKey`). */
  flag?: string;
  option?: string;
  /** api-key: variables tried when the flag is absent, in order. */
  envVars?: readonly string[];
  /** api-key: the masked prompt. */
  prompt?: string;
}

/** A provider setting onboarding offers once the default model is known (`--<flag>` / `--no-<flag>` answer it up front). */
export interface OnboardingOffer {
  /** The key it sets under `models.providers.<id>`. */
  key: string;
  /** The CLI flag without dashes (`e2ee`) and its option name. */
  flag: string;
  option: string;
  question: string;
  /** What saying yes costs or means, shown before the question. */
  note?: string;
  initial: boolean;
  /** Why it does not apply to this default model (undefined: it applies; `model` undefined: not in any catalog). */
  unavailable(model: CatalogModel | undefined, modelId: string): string | undefined;
}

/** The provider-specific parts of `openclaw onboard`. */
export interface ProviderOnboarding {
  authChoices: readonly OnboardingAuthChoice[];
  /** The models offered as the default, from the provider's list (Chutes with `teeOnly`: TEE models only). */
  offeredModels?(models: CatalogModel[], config: ProviderConfig): CatalogModel[];
  /** Extra picker entries for one model (Hugging Face: the cheapest and fastest backends). */
  modelVariants?(ref: string, model: CatalogModel): Array<{ value: string; label: string; hint?: string }>;
  offers?: readonly OnboardingOffer[];
}

/**
 * A provider is a thin configuration of the shared OpenAI-compatible client: defaults, a
 * built-in catalog, how to read its `/models`, and hooks for its quirks. Nothing here knows
 * about the gateway or the CLI.
 */
export interface ProviderDefinition {
  id: string;
  label: string;
  defaultBaseUrl?: string;
  builtinModels: readonly CatalogModel[];
  /** Built-in short names, e.g. `chutes-fast` → `chutes/zai-org/GLM-4.7-FP8`. */
  builtinAliases?: Readonly<Record<string, string>>;
  /** The model onboarding makes the default. */
  defaultModel?: string;
  /** Environment variables holding its credential, in the order they are tried (default `<ID>_API_KEY`). */
  credentialEnv?: readonly string[];
  /** "Sign in with …": the identity provider and app (from config and env), for sign-in and refresh. */
  oauth?: {
    settings(config: OpenClawConfig, env: NodeJS.ProcessEnv | undefined): OAuthSettings;
    /** The variable naming the OAuth app's client id, for the message when it is missing (`CHUTES_CLIENT_ID`). */
    clientIdEnv?: string;
    /** The prompt asking for the client id on a terminal. */
    clientIdPrompt?: string;
  };
  /** What `openclaw onboard` offers for it; a provider without one is set up through config only. */
  onboarding?: ProviderOnboarding;
  /** Whether chat needs a credential (hosted services do; a local vLLM may not). */
  requiresCredential: boolean;
  /** Whether `/models` is worth calling without a credential. */
  discoverWithoutCredential: boolean;
  /** Discovered entries add to the built-in catalog (true) or replace it (false). */
  mergeBuiltinOnDiscovery: boolean;
  mapModel(entry: ModelListEntry, builtin: CatalogModel | undefined): CatalogModel | undefined;
  /** Extra request headers derived from the provider's config. */
  requestHeaders?(config: ProviderConfig): Record<string, string>;
  /** Split a routing suffix off a model id (`Qwen/Qwen3-8B:cheapest`). */
  splitModelSuffix?(modelId: string): { baseId: string; suffix?: string };
  /** Suffixes that pin the backend choice to the router's policy. */
  lockedSuffixes?: readonly string[];
  /**
   * Send requests some other way than plain HTTP (Chutes: end-to-end encrypted to an attested
   * enclave when `e2ee` is on); created once per provider instance. Undefined: plain HTTP.
   */
  transport?(context: TransportContext): ProviderTransport | undefined;
  /** Hardware attestation of the models it marks `confidentialCompute` (loaded only when used). */
  attestation?: { create(context: AttestationContext): Promise<ModelAttestor> };
  /** Embeddings some other way than `POST {embeddingsBaseUrl ?? baseUrl}/embeddings`. */
  embed?(
    context: { client: ProviderHttpClient; config: ProviderConfig; baseUrl: string },
    request: EmbeddingsRequest,
    options: CallOptions,
  ): Promise<EmbeddingsResponse>;
}

export interface Provider {
  readonly id: string;
  readonly definition: ProviderDefinition;
  readonly baseUrl: string;
  discoverModels(options: CallOptions): Promise<DiscoveryResult>;
  chat(request: ChatCompletionRequest, options: CallOptions): Promise<ChatCompletion>;
  chatStream(request: ChatCompletionRequest, options: CallOptions): Promise<ChunkSource>;
  embed(request: EmbeddingsRequest, options: CallOptions): Promise<EmbeddingsResponse>;
}
