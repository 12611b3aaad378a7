import type { ModelRef } from "../models/model-ref.js";
import type { ModelRuntime } from "../models/model-runtime.js";
import type { CallOptions } from "../providers/provider.js";
import { AuthenticationError, UpstreamError } from "../shared/errors.js";
import type { ChatChunk, ChatCompletion, ChatCompletionRequest } from "../shared/wire.js";

export interface RunChatOptions {
  signal?: AbortSignal;
  /** Called when a model fails before its first byte and the next one is tried. */
  onFallback?: (failed: ModelRef, error: Error, next: ModelRef) => void;
  /** Called when an attested enclave (end-to-end encryption) serves the answer, with its receipt. */
  onReceipt?: CallOptions["onReceipt"];
}

/** Failures that justify trying the next model: retryable upstream trouble, and a provider with no usable credential. */
function canFallBack(error: unknown): error is Error {
  if (error instanceof UpstreamError) return error.retryable;
  return error instanceof AuthenticationError && (error.code === "credential_missing" || error.code === "oauth_needs_signin");
}

async function withFallbacks<T>(
  runtime: ModelRuntime,
  chain: ModelRef[],
  options: RunChatOptions,
  call: (ref: ModelRef, apiKey: string | undefined) => Promise<T>,
) {
  let lastError: unknown;
  for (let i = 0; i < chain.length; i++) {
    const ref = chain[i] as ModelRef;
    try {
      const credential = await runtime.freshCredential(ref.provider);
      if (!credential && runtime.provider(ref.provider).definition.requiresCredential) {
        throw new AuthenticationError(
          `no credential for ${ref.provider}: run \`openclaw onboard\` or \`openclaw models auth paste-token --provider ${ref.provider}\``,
          // 503, not 401: the provider is not set up on this gateway; the client's token is fine.
          { code: "credential_missing", status: 503 },
        );
      }
      return { ref, result: await call(ref, credential?.secret) };
    } catch (error) {
      if (error instanceof UpstreamError) error.modelRef ??= ref.ref;
      lastError = error;
      const next = chain[i + 1];
      if (!next || options.signal?.aborted || !canFallBack(error)) throw error;
      options.onFallback?.(ref, error, next);
    }
  }
  throw lastError;
}

/**
 * Start a streamed completion on the first model of `chain` that answers. A model failing
 * before its first chunk with a retryable error (429, 5xx, timeout, connection) hands over
 * to the next; once a chunk has arrived, errors belong to the stream.
 */
export function streamChat(
  runtime: ModelRuntime,
  chain: ModelRef[],
  request: Omit<ChatCompletionRequest, "model">,
  options: RunChatOptions = {},
) {
  return withFallbacks<AsyncIterable<ChatChunk>>(runtime, chain, options, (ref, apiKey) =>
    runtime.provider(ref.provider).chatStream({ ...request, model: ref.modelId } as ChatCompletionRequest, {
      apiKey,
      signal: options.signal,
      onReceipt: options.onReceipt,
    }),
  );
}

export function completeChat(
  runtime: ModelRuntime,
  chain: ModelRef[],
  request: Omit<ChatCompletionRequest, "model">,
  options: RunChatOptions = {},
) {
  return withFallbacks<ChatCompletion>(runtime, chain, options, (ref, apiKey) =>
    runtime
      .provider(ref.provider)
      .chat({ ...request, model: ref.modelId } as ChatCompletionRequest, { apiKey, signal: options.signal, onReceipt: options.onReceipt }),
  );
}
