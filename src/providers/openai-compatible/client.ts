import type { Agent, Dispatcher } from "undici";
import { CancelledError, errorCode, UpstreamError } from "../../shared/errors.js";
import type {
  ChatChunk,
  ChatCompletion,
  ChatCompletionRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
  ModelListEntry,
} from "../../shared/wire.js";
import { ChunkStream } from "./chunk-stream.js";
import { upstreamHttpError, upstreamNetworkError, upstreamStreamError } from "./upstream-error.js";

// undici is loaded on the first request, not at start-up: commands that answer from the
// cache (`models list`) never pay for it.
type Undici = typeof import("undici");
let undici: Undici | undefined;
let sharedAgent: Agent | undefined;
async function loadUndici(): Promise<Undici> {
  undici ??= await import("undici");
  return undici;
}

/** One keep-alive connection pool per process, shared by every provider. */
function sharedDispatcher(module: Undici): Agent {
  sharedAgent ??= new module.Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, connections: 256 });
  return sharedAgent;
}

export interface ClientOptions {
  providerId: string;
  baseUrl: string;
  /** Extra headers for every request (provider quirks such as `X-TEE-Only`). */
  headers?: Record<string, string>;
  /** How long to wait for response headers, and between body chunks. */
  timeoutMs?: number;
  dispatcher?: Dispatcher;
}

export interface CallOptions {
  apiKey?: string | undefined;
  signal?: AbortSignal | undefined;
  headers?: Record<string, string> | undefined;
}

const DEFAULT_TIMEOUT_MS = 120_000;

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

  constructor(options: ClientOptions) {
    this.providerId = options.providerId;
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.headers = options.headers ?? {};
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.dispatcher = options.dispatcher;
  }

  /** POST/GET `path` (relative to the base URL, or absolute) and return the raw response once it is 2xx. */
  async send(method: "GET" | "POST", path: string, body: unknown, options: CallOptions, accept = "application/json") {
    const headers: Record<string, string> = { accept, ...this.headers, ...options.headers };
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Dispatcher.ResponseData;
    try {
      const module = undici ?? (await loadUndici());
      response = await module.request(/^https?:/.test(path) ? path : `${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal: options.signal ?? null,
        dispatcher: this.dispatcher ?? sharedDispatcher(module),
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
    } catch (error) {
      throw this.failure(error, options.signal);
    }
    if (response.statusCode >= 200 && response.statusCode < 300) return response;
    const text = await response.body.text().catch(() => "");
    const retryAfter = response.headers["retry-after"];
    throw upstreamHttpError({
      providerId: this.providerId,
      status: response.statusCode,
      body: text,
      retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
    });
  }

  async json<T>(method: "GET" | "POST", path: string, body: unknown, options: CallOptions): Promise<T> {
    const response = await this.send(method, path, body, options);
    let text: string;
    try {
      text = await response.body.text();
    } catch (error) {
      throw this.failure(error, options.signal);
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new UpstreamError(`${this.providerId} answered with invalid JSON`, {
        status: 502,
        code: "upstream_bad_response",
        retryable: true,
      });
    }
  }

  chat(body: ChatCompletionRequest, options: CallOptions = {}): Promise<ChatCompletion> {
    return this.json<ChatCompletion>("POST", "/chat/completions", { ...body, stream: false }, options);
  }

  /**
   * Start a streaming completion. Resolves once the first event has arrived, so a failure
   * before any token (HTTP error, or an error event first) is thrown here and the caller can
   * still fall back; failures after that are thrown from the iterator.
   */
  async chatStream(body: ChatCompletionRequest, options: CallOptions = {}): Promise<AsyncIterable<ChatChunk>> {
    const response = await this.send("POST", "/chat/completions", { ...body, stream: true }, options, "text/event-stream");
    const stream = new ChunkStream(
      response.body,
      (data) => this.parseEvent(data),
      (error) => (error instanceof UpstreamError ? error : this.failure(error, options.signal)),
    );
    const first = await stream.next().catch(async (error: unknown) => {
      await stream.return();
      throw error;
    });
    if (first.done) return stream;
    let replayed = false;
    // The first chunk was read to catch early failures; hand it out first.
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => {
          if (replayed) return stream.next();
          replayed = true;
          return Promise.resolve(first);
        },
        return: () => stream.return(),
      }),
    };
  }

  private parseEvent(data: string): ChatChunk | "done" | undefined {
    if (data === "[DONE]") return "done";
    if (!data) return undefined;
    let payload: unknown;
    try {
      payload = JSON.parse(data);
    } catch {
      throw new UpstreamError(`${this.providerId} sent a malformed stream event`, { status: 502, code: "upstream_bad_response" });
    }
    if (typeof payload === "object" && payload !== null && "error" in payload && !("choices" in payload)) {
      throw upstreamStreamError(this.providerId, payload);
    }
    return payload as ChatChunk;
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

  private failure(error: unknown, signal: AbortSignal | undefined): Error {
    if (signal?.aborted || errorCode(error) === "UND_ERR_ABORTED" || (error as Error)?.name === "AbortError") {
      return new CancelledError(`request to ${this.providerId} was cancelled`, { cause: error });
    }
    return upstreamNetworkError(this.providerId, error);
  }
}
