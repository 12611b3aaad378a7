import type { Agent, Dispatcher } from "undici";
import { CancelledError, errorCode, UpstreamError } from "../../shared/errors.js";
import { exceedsJsonDepth } from "../../shared/json-depth.js";
import { credentialHeaderValues, credentialVariants, scrubErrorText, scrubExact, urlCredentials } from "../../shared/scrub.js";
import type {
  ChatChunk,
  ChatCompletion,
  ChatCompletionRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
  ModelListEntry,
} from "../../shared/wire.js";
import type { CallOptions, ChunkSource, ProviderTransport, SendRequest } from "../provider.js";
import { checkChunk, checkCompletion } from "./chunk-check.js";
import { rawEventOf } from "./chunk-stream.js";
import { type ExchangeRequest, exchange } from "./exchange.js";
import { firstHeader, MAX_ERROR_BODY_BYTES, openChunkStream } from "./open-chunk-stream.js";
import { acquireSlot, DEFAULT_MAX_CONNECTIONS, DEFAULT_QUEUE_TIMEOUT_MS } from "./origin-slots.js";
import { upstreamHttpError, upstreamNetworkError, upstreamStreamError } from "./upstream-error.js";

// undici is loaded on the first request, not at start-up: commands that answer from the
// cache (`models list`) never pay for it.
type Undici = typeof import("undici");
let undici: Undici | undefined;
const sharedAgents = new Map<number, Agent>();
async function loadUndici(): Promise<Undici> {
  undici ??= await import("undici");
  return undici;
}

/**
 * One keep-alive connection pool per process, shared by every provider, with as many connections
 * per origin as requests may run at once (origin-slots.ts makes the others wait, visibly).
 */
function sharedDispatcher(module: Undici, connections: number): Agent {
  let agent = sharedAgents.get(connections);
  if (!agent) {
    agent = new module.Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, connections });
    sharedAgents.set(connections, agent);
  }
  return agent;
}

/** Default cap on an upstream answer read whole (gateway.http.maxUpstreamBodyBytes). */
export const DEFAULT_MAX_UPSTREAM_BODY_BYTES = 32 * 1024 * 1024;

export interface ClientOptions {
  providerId: string;
  baseUrl: string;
  /** Extra headers for every request (provider quirks such as `X-TEE-Only`). */
  headers?: Record<string, string>;
  /** How long to wait for response headers, and between body chunks. */
  timeoutMs?: number;
  dispatcher?: Dispatcher;
  /** Concurrent requests per upstream origin; more wait up to `queueTimeoutMs`, then fail with 503. */
  maxConnections?: number;
  queueTimeoutMs?: number;
  /** Largest answer read whole (JSON, a JSON answer to a stream request); past it the request is aborted. */
  maxBodyBytes?: number;
  /** The provider's transport hook: requests go through it instead of plain HTTP to `{baseUrl}{path}`. */
  transport?: ProviderTransport | undefined;
}

export type { CallOptions } from "../provider.js";

/** Upstream JSON nested deeper than this is refused (real answers are shallow). */
const MAX_UPSTREAM_JSON_DEPTH = 128;
/** Chunks without choices read ahead while waiting for the first real one. */
const MAX_EARLY_CHUNKS = 16;
const DEFAULT_TIMEOUT_MS = 120_000;
const MAX_CACHED_URLS = 32;

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * The OpenAI-compatible HTTP client every provider is a configuration of. Errors are
 * always `UpstreamError`s (status, message, retryable) or `CancelledError` on abort.
 */
export class OpenAICompatibleClient {
  readonly providerId: string;
  readonly baseUrl: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly dispatcher: Dispatcher | undefined;
  private readonly maxConnections: number;
  private readonly queueTimeoutMs: number;
  private readonly maxBodyBytes: number;
  /** Credentials in the client's own configuration (headers, base URL), for scrubbing. */
  private readonly configuredSecrets: string[];
  private lastKey: string | undefined;
  private lastSecrets: readonly string[];
  private readonly urls = new Map<string, URL>();
  private readonly transport: ProviderTransport | undefined;

  constructor(options: ClientOptions) {
    this.providerId = options.providerId;
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.headers = options.headers ?? {};
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.dispatcher = options.dispatcher;
    this.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.queueTimeoutMs = options.queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_UPSTREAM_BODY_BYTES;
    this.configuredSecrets = [...credentialHeaderValues(this.headers), ...urlCredentials(this.baseUrl)];
    this.lastSecrets = credentialVariants(this.configuredSecrets);
    this.transport = options.transport;
  }

  /** Plain HTTP through undici, or the provider's transport (which may hand the request back to plain HTTP). */
  private send(dispatcher: Dispatcher): SendRequest {
    const plain: SendRequest = (request, sink) => exchange(dispatcher, request, sink);
    const transport = this.transport;
    return transport ? (request, sink) => transport(request, sink, plain) : plain;
  }

  /** Every credential a request carries, in the forms an upstream could echo them. Cached per key. */
  private secretsFor(options: CallOptions): readonly string[] {
    if (options.headers && Object.keys(options.headers).length > 0) {
      return credentialVariants([options.apiKey, ...this.configuredSecrets, ...credentialHeaderValues(options.headers)]);
    }
    if (options.apiKey !== this.lastKey) {
      this.lastKey = options.apiKey;
      this.lastSecrets = credentialVariants([options.apiKey, ...this.configuredSecrets]);
    }
    return this.lastSecrets;
  }

  /** Parsed once per path (a client calls a handful): parsing a URL per request cost ~2 µs. */
  private urlFor(path: string): URL {
    if (/^https?:/.test(path)) return new URL(path);
    let url = this.urls.get(path);
    if (!url) {
      url = new URL(`${this.baseUrl}${path}`);
      if (this.urls.size < MAX_CACHED_URLS) this.urls.set(path, url);
    }
    return url;
  }

  private async prepare(method: "GET" | "POST", path: string, body: unknown, options: CallOptions, accept: string) {
    const headers: Record<string, string> = { accept, ...this.headers, ...options.headers };
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const url = this.urlFor(path);
    const payload = body === undefined ? null : JSON.stringify(body);
    const secrets = this.secretsFor(options);
    const dispatcher = this.dispatcher ?? sharedDispatcher(undici ?? (await loadUndici()), this.maxConnections);
    const release = await acquireSlot({
      origin: url.origin,
      providerId: this.providerId,
      limit: this.maxConnections,
      queueTimeoutMs: this.queueTimeoutMs,
      signal: options.signal,
    });
    const request: ExchangeRequest = {
      url,
      method,
      headers,
      body: payload,
      timeoutMs: this.timeoutMs,
      signal: options.signal,
      onSettled: release,
      onReceipt: options.onReceipt,
    };
    return { request, send: this.send(dispatcher), secrets };
  }

  private httpError(status: number, headers: RawResponse["headers"], body: string, secrets: readonly string[]): UpstreamError {
    const error = upstreamHttpError({
      providerId: this.providerId,
      status,
      body: scrubErrorText(body, secrets),
      retryAfter: firstHeader(headers["retry-after"]),
    });
    // Again after parsing: JSON escapes (`\/`, `\u0041`) can hide a secret from the raw-text pass.
    error.message = scrubErrorText(error.message, secrets);
    return error;
  }

  /**
   * A whole response, any status, with the request's credentials scrubbed from its text. A 2xx
   * body over `maxBodyBytes` fails (502) and aborts the request; an error body is cut at its
   * first 64 KiB, where its message is.
   */
  async fetch(method: "GET" | "POST", path: string, body: unknown, options: CallOptions): Promise<RawResponse> {
    const { request, send, secrets } = await this.prepare(method, path, body, options, "application/json");
    return this.collect(send, request, secrets, options.signal);
  }

  private collect(send: SendRequest, request: ExchangeRequest, secrets: readonly string[], signal?: AbortSignal) {
    return new Promise<RawResponse>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      let cap = this.maxBodyBytes;
      let status = 0;
      let headers: RawResponse["headers"] = {};
      const text = () =>
        scrubExact(chunks.length === 1 ? (chunks[0] as Buffer).toString("utf8") : Buffer.concat(chunks).toString("utf8"), secrets);
      // The body, once its headers came, within the upstream timeout: undici's bodyTimeout is per
      // read, so an upstream trickling a byte at a time (or spaces after its JSON) would reset it for ever.
      let deadline: NodeJS.Timeout | undefined;
      const settle = () => {
        if (deadline) clearTimeout(deadline);
        deadline = undefined;
      };
      send(request, {
        onStart: (code, received, control) => {
          status = code;
          headers = received;
          if (code < 200 || code >= 300) cap = MAX_ERROR_BODY_BYTES;
          deadline = setTimeout(() => {
            const error = new UpstreamError(
              `${this.providerId} did not finish its answer within ${this.timeoutMs} ms (gateway.http.upstreamTimeoutMs)`,
              { status: 504, type: "timeout_error", code: "upstream_timeout", retryable: true },
            );
            reject(error);
            control.abort(error);
          }, this.timeoutMs);
        },
        onData: (chunk) => {
          bytes += chunk.length;
          if (bytes <= cap) return void chunks.push(chunk);
          settle();
          if (cap === MAX_ERROR_BODY_BYTES) resolve({ status, headers, text: text() });
          else {
            reject(
              new UpstreamError(`${this.providerId} answered with a body over ${cap} bytes (gateway.http.maxUpstreamBodyBytes)`, {
                status: 502,
                code: "upstream_body_too_large",
                retryable: true,
              }),
            );
          }
          // Throwing from the sink makes exchange() abort the upstream request.
          throw new Error("upstream body over its cap");
        },
        onEnd: () => {
          settle();
          resolve({ status, headers, text: text() });
        },
        onError: (error) => {
          settle();
          reject(this.failure(error, signal, secrets));
        },
      });
    });
  }

  async json<T>(method: "GET" | "POST", path: string, body: unknown, options: CallOptions): Promise<T> {
    const { request, send, secrets } = await this.prepare(method, path, body, options, "application/json");
    const response = await this.collect(send, request, secrets, options.signal);
    if (response.status < 200 || response.status >= 300) throw this.httpError(response.status, response.headers, response.text, secrets);
    try {
      // Nesting deep enough to overflow the stack later (when the answer is re-serialised) is not an answer.
      if (exceedsJsonDepth(response.text, MAX_UPSTREAM_JSON_DEPTH)) throw new Error("too deep");
      return JSON.parse(response.text) as T;
    } catch {
      throw new UpstreamError(`${this.providerId} answered with invalid JSON`, {
        status: 502,
        code: "upstream_bad_response",
        retryable: true,
      });
    }
  }

  async chat(body: ChatCompletionRequest, options: CallOptions = {}): Promise<ChatCompletion> {
    return checkCompletion(this.providerId, await this.json<unknown>("POST", "/chat/completions", { ...body, stream: false }, options));
  }

  /**
   * Start a streaming completion. Resolves once the first event has arrived, so a failure
   * before any token (HTTP error, or an error event first) is thrown here and the caller can
   * still fall back; failures after that are thrown from the iterator.
   */
  async chatStream(body: ChatCompletionRequest, options: CallOptions = {}): Promise<ChunkSource> {
    const { request, send, secrets } = await this.prepare(
      "POST",
      "/chat/completions",
      { ...body, stream: true },
      options,
      "text/event-stream",
    );
    const mapError = (error: unknown) => (error instanceof UpstreamError ? error : this.failure(error, options.signal, secrets));
    const stream = await openChunkStream(send, request, {
      providerId: this.providerId,
      parseEvent: (data) => this.parseEvent(data, secrets),
      mapError,
      httpError: (status, headers, text) => this.httpError(status, headers, text, secrets),
      maxBodyBytes: this.maxBodyBytes,
      secrets,
      eventTimeoutMs: this.timeoutMs,
    });
    // Read up to the first chunk with choices, so that a failure before any answer (an HTTP
    // error, an error event, a stream of nothing but usage) is thrown here and the caller can
    // still fall back. What was read is handed out first.
    const early: Array<IteratorResult<ChatChunk>> = [];
    try {
      for (;;) {
        const result = await stream.next();
        early.push(result);
        if (result.done || result.value.choices?.length || early.length >= MAX_EARLY_CHUNKS) break;
      }
    } catch (error) {
      await stream.return();
      throw error;
    }
    if (early.length === 1 && early[0]?.done) return stream;
    let replayed = 0;
    const replay: ChunkSource = {
      [Symbol.asyncIterator]: () => ({
        next: () => (replayed < early.length ? Promise.resolve(early[replayed++] as IteratorResult<ChatChunk>) : stream.next()),
        return: () => stream.return(),
      }),
      takeQueued: () => (replayed >= early.length ? stream.takeQueued() : []),
      rawEvent: rawEventOf,
    };
    return replay;
  }

  /** One event's data (already scrubbed of the request's exact credentials) → a checked chunk. */
  private parseEvent(data: string, secrets: readonly string[]): ChatChunk | "done" | undefined {
    if (data === "[DONE]") return "done";
    if (!data) return undefined;
    let payload: unknown;
    try {
      if (exceedsJsonDepth(data, MAX_UPSTREAM_JSON_DEPTH)) throw new Error("too deep");
      payload = JSON.parse(data);
    } catch {
      throw new UpstreamError(`${this.providerId} sent a malformed stream event`, {
        status: 502,
        code: "upstream_bad_response",
        retryable: true,
      });
    }
    if (typeof payload === "object" && payload !== null && "error" in payload && !("choices" in payload)) {
      const error = upstreamStreamError(this.providerId, payload);
      error.message = scrubErrorText(error.message, secrets);
      throw error;
    }
    return checkChunk(this.providerId, payload);
  }

  async listModels(options: CallOptions = {}): Promise<ModelListEntry[]> {
    const body = await this.json<{ data?: unknown }>("GET", "/models", undefined, options);
    if (!Array.isArray(body?.data)) {
      throw new UpstreamError(`${this.providerId} /models did not return a list`, {
        status: 502,
        code: "upstream_bad_response",
        retryable: true,
      });
    }
    return body.data.filter(
      (entry): entry is ModelListEntry => typeof entry === "object" && entry !== null && typeof entry.id === "string",
    );
  }

  embeddings(body: EmbeddingsRequest, options: CallOptions = {}): Promise<EmbeddingsResponse> {
    return this.json<EmbeddingsResponse>("POST", "/embeddings", body, options);
  }

  private failure(error: unknown, signal: AbortSignal | undefined, secrets: readonly string[]): Error {
    if (signal?.aborted || errorCode(error) === "UND_ERR_ABORTED" || (error as Error)?.name === "AbortError") {
      return new CancelledError(`request to ${this.providerId} was cancelled`, { cause: error });
    }
    if (error instanceof UpstreamError) return error;
    const mapped = upstreamNetworkError(this.providerId, error);
    mapped.message = scrubErrorText(mapped.message, secrets);
    return mapped;
  }
}
