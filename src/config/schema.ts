import { z } from "zod";

/**
 * The one source of truth for `openclaw.json`. Objects are strict: an unknown key is an
 * error that names it, never silently kept or dropped.
 */

/** Provider ids: lower-case letters, digits, - and _ (they start model refs and profile ids). */
export const PROVIDER_ID = /^[a-z0-9][a-z0-9_-]*$/;

const positiveInt = z.number().int().positive();
const nonEmpty = z.string().min(1);

/** An http(s) URL, or a string holding `${VAR}` references (checked again after substitution). */
const httpUrl = z.string().refine((value) => value.includes("${") || (/^https?:\/\/[^\s/]+/.test(value) && URL.canParse(value)), {
  message: "expected an http(s) URL",
});

export const InputModalitySchema = z.enum(["text", "image", "audio", "video", "file"]);

export const ModelCostSchema = z.strictObject({
  /** USD per 1M input tokens. */
  input: z.number().nonnegative().optional(),
  output: z.number().nonnegative().optional(),
  cacheRead: z.number().nonnegative().optional(),
  cacheWrite: z.number().nonnegative().optional(),
});

export const ModelDefinitionSchema = z.strictObject({
  id: nonEmpty,
  name: z.string().optional(),
  /** Display label some seeds keep on the provider's model entry. */
  alias: z.string().optional(),
  api: z.literal("openai-completions").optional(),
  reasoning: z.boolean().optional(),
  tools: z.boolean().optional(),
  input: z.array(InputModalitySchema).optional(),
  cost: ModelCostSchema.optional(),
  contextWindow: positiveInt.optional(),
  maxTokens: positiveInt.optional(),
  /** Runs in a Trusted Execution Environment (Chutes `confidential_compute`). */
  confidentialCompute: z.boolean().optional(),
  headers: z.record(z.string(), z.string()).optional(),
});

/**
 * Intel's TCB statuses a platform may be accepted with; `Revoked` is not among them: a revoked
 * platform is never trusted, whatever the config says.
 */
export const TcbStatusSchema = z.enum([
  "UpToDate",
  "SWHardeningNeeded",
  "ConfigurationNeeded",
  "ConfigurationAndSWHardeningNeeded",
  "OutOfDate",
  "OutOfDateConfigurationNeeded",
]);

/** One accepted TDX measurement, as `/servers/tee/measurements` lists them (extra fields kept). */
export const TeeMeasurementConfigSchema = z.looseObject({
  name: z.string().optional(),
  version: z.string().optional(),
  mrtd: z.string().regex(/^[0-9a-fA-F]{96}$/, "mrtd is 48 bytes of hex"),
  runtime_rtmrs: z.record(z.string(), z.string().regex(/^[0-9a-fA-F]{96}$/, "an RTMR is 48 bytes of hex")),
  gpu_count: z.number().int().nonnegative().optional(),
});

/** Chutes: how TEE instances are attested before anything is encrypted to them. */
export const ChutesTeeConfigSchema = z.strictObject({
  /** Chutes' management API: `/e2e/*`, `/chutes/{id}/evidence`, `/servers/tee/measurements` (default https://api.chutes.ai). */
  apiBaseUrl: httpUrl.optional(),
  /** A PCCS serving Intel's v4 paths (default Intel's PCS). */
  pccsUrl: httpUrl.optional(),
  /**
   * The root the quote's PCK chain and the collateral must end at (default Intel's SGX root CA):
   * PEM text (starts with `-----BEGIN`), or the path of a PEM file (`~` and paths relative to
   * the config file's directory accepted).
   */
  trustAnchorPem: z.string().min(1).optional(),
  /** TCB statuses accepted (default ["UpToDate"]). */
  tcbAllow: z.array(TcbStatusSchema).min(1).optional(),
  /** Accepted measurements pinned here replace the published list. */
  measurements: z.array(TeeMeasurementConfigSchema).min(1).optional(),
  /** The GPU evidence verifier (default NVIDIA's remote attestation service). */
  gpuVerifierUrl: httpUrl.optional(),
  /** How long an attested chute stays trusted (default 600). */
  verifiedTtlSeconds: positiveInt.optional(),
  /** How long a failed attestation is remembered before it is tried again (default 30). */
  failureTtlSeconds: positiveInt.optional(),
});

export const ProviderConfigSchema = z.strictObject({
  baseUrl: httpUrl.optional(),
  api: z.literal("openai-completions").optional(),
  /** A `${VAR}` reference; literal secrets belong in the credential store. */
  apiKey: z.string().optional(),
  /** Chutes: only Trusted Execution Environment models. */
  teeOnly: z.boolean().optional(),
  /** Chutes: end-to-end encrypt requests to attested TEE instances only (no plaintext fallback). Default false. */
  e2ee: z.boolean().optional(),
  /** Chutes: attestation settings (used by E2EE and `openclaw tee verify`). */
  tee: ChutesTeeConfigSchema.optional(),
  headers: z.record(z.string(), z.string()).optional(),
  /** Base URL for `/embeddings` when a provider serves them from another host. */
  embeddingsBaseUrl: httpUrl.optional(),
  /** Look the model list up from the provider's `/models` (default true where supported). */
  discovery: z.boolean().optional(),
  timeoutMs: positiveInt.optional(),
  models: z.array(ModelDefinitionSchema).optional(),
  /** Chutes: the "Sign in with Chutes" identity provider and OAuth app (env vars win). */
  oauth: z
    .strictObject({
      baseUrl: httpUrl.optional(),
      clientId: z.string().optional(),
      redirectUri: z.string().optional(),
      scopes: z.string().optional(),
    })
    .optional(),
});

export const ModelSelectionSchema = z.union([
  nonEmpty,
  z.strictObject({
    primary: nonEmpty.optional(),
    fallbacks: z.array(nonEmpty).optional(),
  }),
]);

export const ModelEntrySchema = z.strictObject({
  alias: z.string().optional(),
  params: z.record(z.string(), z.unknown()).optional(),
});

export const MemorySearchSchema = z.strictObject({
  enabled: z.boolean().optional(),
  provider: z.string().optional(),
  model: z.string().optional(),
});

const agentShape = {
  model: ModelSelectionSchema.optional(),
  /** Keys are model refs (or alias names); see README "Aliases". */
  models: z.record(z.string(), ModelEntrySchema).optional(),
  systemPrompt: z.string().optional(),
  memorySearch: MemorySearchSchema.optional(),
};

export const AgentDefaultsSchema = z.strictObject(agentShape);

export const AgentSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, "agent ids use letters, digits, '-' and '_'"),
  name: z.string().optional(),
  default: z.boolean().optional(),
  ...agentShape,
  /** Model refs this agent may use; empty or missing means any. */
  allowedModels: z.array(nonEmpty).optional(),
});

export const AuthProfileMetaSchema = z.strictObject({
  provider: nonEmpty,
  mode: z.enum(["api_key", "token", "oauth"]),
  email: z.string().optional(),
});

export const GatewayConfigSchema = z.strictObject({
  port: z.number().int().min(0).max(65535).optional(),
  /** "loopback" (127.0.0.1), "lan" (0.0.0.0), or an address. */
  bind: z.string().min(1).optional(),
  auth: z
    .strictObject({
      mode: z.enum(["token", "password"]).optional(),
      token: z.string().optional(),
      password: z.string().optional(),
      rateLimit: z
        .strictObject({
          maxAttempts: positiveInt.optional(),
          windowMs: positiveInt.optional(),
          lockoutMs: positiveInt.optional(),
          /** Failed attempts allowed per window across all addresses together, so rotating addresses does not multiply guesses. */
          globalMaxAttempts: positiveInt.optional(),
          /** Never lock out loopback clients (the operator on this machine); off by default. */
          exemptLoopback: z.boolean().optional(),
        })
        .optional(),
    })
    .optional(),
  http: z
    .strictObject({
      endpoints: z
        .strictObject({
          chatCompletions: z.strictObject({ enabled: z.boolean().optional() }).optional(),
          responses: z.strictObject({ enabled: z.boolean().optional() }).optional(),
        })
        .optional(),
      maxBodyBytes: positiveInt.optional(),
      /** Deepest JSON nesting accepted in a request body. */
      maxJsonDepth: positiveInt.max(1000).optional(),
      /** How long a client may take to send a whole authenticated request body. */
      requestTimeoutMs: positiveInt.optional(),
      /** How long a client may take to send the request headers. */
      headersTimeoutMs: positiveInt.optional(),
      /** Open connections allowed from one client address. */
      maxConnectionsPerClient: positiveInt.optional(),
      upstreamTimeoutMs: positiveInt.optional(),
      /** Concurrent requests to one upstream origin (streams hold one each until they end). */
      upstreamMaxConnections: positiveInt.optional(),
      /** How long a request waits for a free upstream connection before a 503. */
      upstreamQueueTimeoutMs: positiveInt.optional(),
      /** Largest upstream answer read whole (JSON answers, error bodies); past it the upstream call is aborted. */
      maxUpstreamBodyBytes: positiveInt.optional(),
      /** Browser origins allowed to call the gateway (CORS), e.g. ["http://localhost:3210"] or ["*"]. */
      cors: z.strictObject({ origins: z.array(z.string().min(1)).optional() }).optional(),
      /** Responses over WebSocket (GET /v1/responses with Upgrade: websocket); on with the Responses endpoint. */
      websocket: z
        .strictObject({
          /** Open sockets allowed per gateway credential (bearer token or password). */
          maxConnectionsPerCredential: positiveInt.optional(),
          /** A socket is closed (1001) once this old, after the response in flight; OpenAI's limit is 60 minutes. */
          maxConnectionAgeMs: positiveInt.optional(),
          /** How often the gateway pings; a peer that has not answered the previous ping is dropped. */
          pingIntervalMs: positiveInt.optional(),
        })
        .optional(),
    })
    .optional(),
  /** How a request moves through its model chain (agents' fallbacks) when upstreams fail. */
  routing: z
    .strictObject({
      /** Extra attempts on the same model after a 429 / 5xx / timeout before falling back (default 2; 0 = none). */
      retries: z.number().int().min(0).max(10).optional(),
      /** First backoff (doubled per retry, with jitter); an upstream's Retry-After wins when longer (default 500). */
      retryBaseDelayMs: positiveInt.optional(),
      /** Longest wait before a retry, Retry-After included: longer ones fall back instead (default 10000). */
      retryMaxDelayMs: positiveInt.optional(),
      /** A streamed attempt with no first token by then is abandoned for the next try (default 30000). */
      firstByteTimeoutMs: positiveInt.optional(),
      /** Consecutive failed requests after which a model is skipped (default 3; 0 = never). */
      cooldownFailures: z.number().int().min(0).optional(),
      /** How long a failing model is skipped, across requests (default 60). */
      cooldownSeconds: positiveInt.optional(),
    })
    .optional(),
  sessions: z
    .strictObject({
      /** Session turns older than this are deleted (days). */
      retentionDays: positiveInt.optional(),
      /** The session database is trimmed (oldest turns first) to stay under this size (MB). */
      maxDatabaseMb: positiveInt.optional(),
      /**
       * Which requests keep their messages: "keyed" (default) only those naming a session
       * (x-openclaw-session-key or the OpenAI `user` field), "all", or "none". Every request is
       * recorded as metadata (the usage ledger) whatever this says.
       */
      content: z.enum(["keyed", "all", "none"]).optional(),
    })
    .optional(),
  /** Shared state for several replicas; with neither, one process keeps everything (SQLite, in-process limits). */
  state: z
    .strictObject({
      /** redis:// or rediss:// URL (`${VAR}` allowed; also OPENCLAW_REDIS_URL): limits, lockouts, cooldowns, caches, OAuth refresh lock. */
      redis: z.string().min(1).optional(),
      /** postgres:// URL (`${VAR}` allowed; also OPENCLAW_DATABASE_URL): sessions, responses, usage, keys, credentials. */
      postgres: z.string().min(1).optional(),
      /** When Redis cannot be reached: "open" (default) admits requests with a warning, "closed" refuses them (503). */
      redisFailMode: z.enum(["open", "closed"]).optional(),
      /** Records held in memory while PostgreSQL is unreachable (default 10000); past it the oldest are dropped, with a log line. */
      maxQueuedRecords: positiveInt.optional(),
      /**
       * The key that encrypts credentials in PostgreSQL (AES-256-GCM): 32 bytes, base64 or hex, as `${VAR}` only (also
       * OPENCLAW_STATE_KEY). Without one, credentials stay in this machine's file.
       */
      credentialsKey: z.string().min(1).optional(),
    })
    .optional(),
  /** Prometheus metrics at GET /metrics. */
  metrics: z
    .strictObject({
      /** Default true. */
      enabled: z.boolean().optional(),
      /** A bearer token only for scraping (a secret: set with ${VAR} or the credential store), instead of the gateway token. */
      token: z.string().min(1).optional(),
    })
    .optional(),
  /** OpenTelemetry traces (exported when OTEL_EXPORTER_OTLP_ENDPOINT is set). */
  telemetry: z
    .strictObject({
      /** Put prompts and answers on spans (gen_ai.input.messages / gen_ai.output.messages); default false. */
      captureContent: z.boolean().optional(),
    })
    .optional(),
  /** The gateway's log: one line per request on stderr, and a file under <state>/logs. */
  logs: z
    .strictObject({
      /** "pretty" (coloured, one line per request) or "json"; default pretty on a terminal, json otherwise. */
      format: z.enum(["pretty", "json"]).optional(),
      /** Write <state>/logs/gateway.log (default true). */
      file: z.boolean().optional(),
      /** Rotate the file past this size (MB, default 10). */
      maxFileMb: positiveInt.optional(),
      /** Rotated files kept (default 5). */
      keepFiles: positiveInt.max(100).optional(),
    })
    .optional(),
  /** The dashboard at /ui. */
  ui: z.strictObject({ enabled: z.boolean().optional() }).optional(),
});

/** `env`: variables applied to the process (never overriding ones already set). */
export const EnvConfigSchema = z
  .object({
    vars: z.record(z.string(), z.string()).optional(),
    shellEnv: z.strictObject({ enabled: z.boolean().optional(), timeoutMs: positiveInt.optional() }).optional(),
  })
  .catchall(z.string());

export const OpenClawConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  env: EnvConfigSchema.optional(),
  models: z
    .strictObject({
      /** "merge" adds discovered/built-in models to yours; "replace" uses only yours. */
      mode: z.enum(["merge", "replace"]).optional(),
      /** How long discovered model lists stay fresh, in seconds (default 4 hours). */
      discoveryTtlSeconds: positiveInt.optional(),
      providers: z
        .record(z.string().regex(PROVIDER_ID, "provider ids use lower-case letters, digits, - and _"), ProviderConfigSchema)
        .optional(),
    })
    .optional(),
  agents: z
    .strictObject({
      defaults: AgentDefaultsSchema.optional(),
      list: z.array(AgentSchema).optional(),
    })
    .optional(),
  auth: z
    .strictObject({
      profiles: z.record(z.string().regex(/^[^:\s]+:[^\s]+$/, "profile ids look like <provider>:<name>"), AuthProfileMetaSchema).optional(),
      /** Per provider, which profiles to try first. */
      order: z.record(z.string(), z.array(z.string())).optional(),
    })
    .optional(),
  gateway: GatewayConfigSchema.optional(),
});

export type OpenClawConfig = z.infer<typeof OpenClawConfigSchema>;
export type ProviderConfig = z.infer<typeof ProviderConfigSchema>;
export type ChutesTeeConfig = z.infer<typeof ChutesTeeConfigSchema>;
export type ModelDefinition = z.infer<typeof ModelDefinitionSchema>;
export type AgentConfig = z.infer<typeof AgentSchema>;
export type AuthProfileMeta = z.infer<typeof AuthProfileMetaSchema>;
