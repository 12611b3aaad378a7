import type { ModelRef } from "../models/model-ref.js";
import type { ModelRuntime } from "../models/model-runtime.js";
import type { CallOptions, ChunkSource } from "../providers/provider.js";
import { AuthenticationError, errorCode, UpstreamError } from "../shared/errors.js";
import { retryDelay, sleep } from "../shared/retry-policy.js";
import type { ChatCompletion, ChatCompletionRequest } from "../shared/wire.js";
import { linkedSignal, releaseAtEnd } from "./attempt-signal.js";
import type { RoutingDecision, RoutingPolicy } from "./routing.js";

export interface RunChatOptions {
  signal?: AbortSignal;
  /** Called when a model fails before its first byte and the next one is tried. */
  onFallback?: (failed: ModelRef, error: Error, next: ModelRef) => void;
  /** Retries, first-byte budget, cooldowns (gateway.routing); without it, one attempt per model. */
  routing?: RoutingPolicy;
  /** Every retry, fallback, cooldown and skip, for the log. */
  onDecision?: (decision: RoutingDecision) => void;
  /** Called when an attested enclave (end-to-end encryption) serves the answer, with its receipt. */
  onReceipt?: CallOptions["onReceipt"];
  /** Called as each upstream attempt starts; what it returns, when the attempt ends (a stream's: at its first chunk). */
  onAttempt?: (attempt: AttemptStart) => AttemptEnd | undefined;
}

/** One upstream attempt, for whoever times or traces it. */
export interface AttemptStart {
  ref: ModelRef;
  operation: "chat";
  stream: boolean;
  /** The body sent, without `model`. */
  request: object;
}
export type AttemptEnd = (outcome: { error?: unknown; result?: unknown }) => void;

type Call<T> = (ref: ModelRef, apiKey: string | undefined, signal: AbortSignal | undefined) => Promise<T>;
/** Keeps an attempt's result linked to the client's signal for as long as it needs it, then calls `release`. */
type Hold<T> = (result: T, release: () => void) => T;
const releaseNow = <T>(result: T, release: () => void): T => {
  release();
  return result;
};

/** Failures that justify trying the next model: retryable upstream trouble, and a provider with no usable credential. */
function canFallBack(error: unknown): error is Error {
  if (error instanceof UpstreamError) return error.retryable;
  return error instanceof AuthenticationError && (error.code === "credential_missing" || error.code === "oauth_needs_signin");
}

/**
 * One attempt; with a first-byte budget, an attempt that has not produced its first chunk by
 * then is aborted and fails as a (fallback-worthy) timeout, so a hung model hands over instead of
 * holding the request for the whole upstream timeout. The attempt's signal still follows the
 * client's, until `hold` releases it (a stream: when its consumer is done with it).
 */
async function attempt<T>(
  call: Call<T>,
  ref: ModelRef,
  apiKey: string | undefined,
  signal: AbortSignal | undefined,
  budgetMs: number,
  hold: Hold<T>,
) {
  if (budgetMs <= 0) return call(ref, apiKey, signal);
  const { controller, release } = linkedSignal(signal);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, budgetMs);
  try {
    return hold(await call(ref, apiKey, controller.signal), release);
  } catch (error) {
    release();
    if (timedOut && !signal?.aborted)
      throw new UpstreamError(`${ref.ref} sent nothing within ${budgetMs} ms (gateway.routing.firstByteTimeoutMs)`, {
        status: 504,
        type: "timeout_error",
        code: "upstream_first_byte_timeout",
        retryable: true,
        cause: error,
      });
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** The chain without models in cooldown (unless every one is: then all are tried, the first may have recovered). */
function skipCooling(chain: ModelRef[], options: RunChatOptions): ModelRef[] {
  const routing = options.routing;
  if (!routing || chain.length < 2) return chain;
  const now = routing.now();
  const live = chain.filter((ref) => {
    const remainingMs = routing.cooldowns.coolingFor(ref.ref, now);
    if (remainingMs > 0) options.onDecision?.({ decision: "cooldown-skip", model: ref.ref, remainingMs });
    return remainingMs === 0;
  });
  return live.length > 0 ? live : chain;
}

async function withFallbacks<T>(
  runtime: ModelRuntime,
  chain: ModelRef[],
  options: RunChatOptions,
  firstByte: boolean,
  request: object,
  call: Call<T>,
  hold: Hold<T> = releaseNow,
) {
  const { routing, signal } = options;
  const candidates = skipCooling(chain, options);
  let lastError: unknown;
  for (let i = 0; i < candidates.length; i++) {
    const ref = candidates[i] as ModelRef;
    for (let retry = 0; ; retry++) {
      try {
        const credential = await runtime.freshCredential(ref.provider);
        if (!credential && runtime.provider(ref.provider).definition.requiresCredential) {
          throw new AuthenticationError(
            `no credential for ${ref.provider}: run \`openclaw onboard\` or \`openclaw models auth paste-token --provider ${ref.provider}\``,
            // 503, not 401: the provider is not set up on this gateway; the client's token is fine.
            { code: "credential_missing", status: 503 },
          );
        }
        const budgetMs = firstByte ? (routing?.firstByteTimeoutMs ?? 0) : 0;
        const ended = options.onAttempt?.({ ref, operation: "chat", stream: firstByte, request });
        let result: T;
        try {
          result = await attempt(call, ref, credential?.secret, signal, budgetMs, hold);
        } catch (error) {
          ended?.({ error });
          throw error;
        }
        ended?.({ result });
        routing?.cooldowns.succeeded(ref.ref);
        return { ref, result };
      } catch (error) {
        if (error instanceof UpstreamError) error.modelRef ??= ref.ref;
        lastError = error;
        if (signal?.aborted || !routing) break;
        if (errorCode(error) === "upstream_first_byte_timeout")
          options.onDecision?.({ decision: "first-byte-timeout", model: ref.ref, timeoutMs: routing.firstByteTimeoutMs });
        const delayMs = retryDelay(routing.retry, retry, error);
        if (delayMs === undefined) break;
        options.onDecision?.({ decision: "retry", model: ref.ref, attempt: retry + 2, delayMs, error: (error as Error).message });
        if (!(await sleep(delayMs, signal))) break;
      }
    }
    if (signal?.aborted || !canFallBack(lastError)) throw lastError;
    if (routing?.cooldowns.failed(ref.ref, routing.now(), routing.cooldownFailures, routing.cooldownMs))
      options.onDecision?.({ decision: "cooldown", model: ref.ref, seconds: routing.cooldownMs / 1000 });
    const next = candidates[i + 1];
    if (!next) throw lastError;
    options.onFallback?.(ref, lastError, next);
    options.onDecision?.({ decision: "fallback", model: ref.ref, next: next.ref, error: lastError.message });
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
  return withFallbacks<ChunkSource>(
    runtime,
    chain,
    options,
    true,
    request,
    (ref, apiKey, signal) =>
      runtime
        .provider(ref.provider)
        .chatStream({ ...request, model: ref.modelId } as ChatCompletionRequest, { apiKey, signal, onReceipt: options.onReceipt }),
    releaseAtEnd,
  );
}

export function completeChat(
  runtime: ModelRuntime,
  chain: ModelRef[],
  request: Omit<ChatCompletionRequest, "model">,
  options: RunChatOptions = {},
) {
  // No first-byte budget: a non-streamed answer's first byte is its last (upstreamTimeoutMs bounds it).
  return withFallbacks<ChatCompletion>(runtime, chain, options, false, request, (ref, apiKey, signal) =>
    runtime
      .provider(ref.provider)
      .chat({ ...request, model: ref.modelId } as ChatCompletionRequest, { apiKey, signal, onReceipt: options.onReceipt }),
  );
}
