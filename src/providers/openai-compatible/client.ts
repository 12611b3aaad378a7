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
import type { BatchedChunks } from "./chunk-stream.js";
import { type ExchangeRequest, exchange } from "./exchange.js";
import { firstHeader, openChunkStream } from "./open-chunk-stream.js";
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

  constructor(options: ClientOptions) {
    this.providerId = options.providerId;
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.headers = options.headers ?? {};
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.dispatcher = options.dispatcher;
  }

  private async prepare(method: "GET" | "POST", path: string, body: unknown, options: CallOptions, accept: string) {
    const headers: Record<string, string> = { accept, ...this.headers, ...options.headers };
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const request: ExchangeRequest = {
      url: new URL(/^https?:/.test(path) ? path : `${this.baseUrl}${path}`),
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      timeoutMs: this.timeoutMs,
      signal: options.signal,
    };
    const dispatcher = this.dispatcher ?? sharedDispatcher(undici ?? (await loadUndici()));
    return { request, dispatcher };
  }

  private httpError(status: number, headers: RawResponse["headers"], body: string): UpstreamError {
    return upstreamHttpError({ providerId: this.providerId, status, body, retryAfter: firstHeader(headers["retry-after"]) });
  }

  /** A whole response, any status. */
  async fetch(method: "GET" | "POST", path: string, body: unknown, options: CallOptions): Promise<RawResponse> {
    const { request, dispatcher } = await this.prepare(method, path, body, options, "application/json");
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let status = 0;
      let headers: RawResponse["headers"] = {};
      exchange(dispatcher, request, {
        onStart: (code, received) => {
          status = code;
          headers = received;
        },
        onData: (chunk) => chunks.push(chunk),
        onEnd: () =>
          resolve({
            status,
            headers,
            text: chunks.length === 1 ? (chunks[0] as Buffer).toString("utf8") : Buffer.concat(chunks).toString("utf8"),
          }),
        onError: (error) => reject(this.failure(error, options.signal)),
      });
    });
  }

  async json<T>(method: "GET" | "POST", path: string, body: unknown, options: CallOptions): Promise<T> {
    const response = await this.fetch(method, path, body, options);
    if (response.status < 200 || response.status >= 300) throw this.httpError(response.status, response.headers, response.text);
    try {
      return JSON.parse(response.text) as T;
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
    const { request, dispatcher } = await this.prepare(
      "POST",
      "/chat/completions",
      { ...body, stream: true },
      options,
      "text/event-stream",
    );
    const mapError = (error: unknown) => (error instanceof UpstreamError ? error : this.failure(error, options.signal));
    const stream = await openChunkStream(dispatcher, request, {
      providerId: this.providerId,
      parseEvent: (data) => this.parseEvent(data),
      mapError,
      httpError: (status, headers, text) => this.httpError(status, headers, text),
    });
    const first = await stream.next().catch(async (error: unknown) => {
      await stream.return();
      throw error;
    });
    if (first.done) return stream;
    let replayed = false;
    // The first chunk was read to catch early failures; hand it out first.
    const replay: BatchedChunks = {
      [Symbol.asyncIterator]: () => ({
        next: () => {
          if (replayed) return stream.next();
          replayed = true;
          return Promise.resolve(first);
        },
        return: () => stream.return(),
      }),
      takeQueued: () => (replayed ? stream.takeQueued() : []),
    };
    return replay;
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
