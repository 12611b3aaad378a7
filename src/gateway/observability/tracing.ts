import type { IncomingHttpHeaders } from "node:http";
import { type Attributes, type Context, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import type { ModelRuntime } from "../../models/model-runtime.js";
import { VERSION } from "../../shared/version.js";
import { errorType } from "./error-type.js";
import { inputMessages, outputMessages } from "./genai-content.js";
import type { AttemptInfo, AttemptOutcome, AttemptTrace, RequestEnd, RequestTrace } from "./observer.js";

export interface TracingOptions {
  env: NodeJS.ProcessEnv;
  runtime: () => ModelRuntime;
  /** Read per request (gateway.telemetry.captureContent), so a config reload applies at once. */
  captureContent: () => boolean;
}

export interface RequestTracer {
  startTrace(headers: IncomingHttpHeaders, endpoint: string, requestId: string): RequestTrace | undefined;
  close(): Promise<void>;
}

const ROUTES: Record<string, string> = {
  "chat.completions": "/v1/chat/completions",
  responses: "/v1/responses",
  embeddings: "/v1/embeddings",
};
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The W3C `traceparent` a client sent, as the parent context; a malformed one is ignored (a new trace starts). */
export function parentFrom(headers: IncomingHttpHeaders): Context {
  const value = headers.traceparent;
  const match = typeof value === "string" ? TRACEPARENT.exec(value.trim()) : null;
  if (!match) return ROOT_CONTEXT;
  const [, version, traceId, spanId, flags, rest] = match as unknown as string[];
  if (version === "ff" || (version === "00" && rest) || /^0+$/.test(traceId as string) || /^0+$/.test(spanId as string))
    return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: traceId as string,
    spanId: spanId as string,
    traceFlags: Number.parseInt(flags as string, 16) & 1,
    isRemote: true,
  });
}

const positive = (value: string | undefined, fallback: number) => {
  const number = Number(value);
  return Number.isFinite(number) && number > 0 ? number : fallback;
};

/**
 * One SERVER span per model request and one CLIENT span per upstream attempt (its child), with
 * the OpenTelemetry GenAI attributes, exported over OTLP/HTTP (JSON) to the standard
 * `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT`. Spans leave in batches from a bounded queue
 * (`OTEL_BSP_*`, default 2048 spans: past it new spans are dropped, never buffered without
 * bound); shutdown flushes what is queued. Prompt and answer text only with captureContent.
 */
export function createTracer(options: TracingOptions): RequestTracer {
  const { env } = options;
  const exporter = new OTLPTraceExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": env.OTEL_SERVICE_NAME || "openclaw-gateway", "service.version": VERSION }),
    spanLimits: { attributeValueLengthLimit: positive(env.OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT, 64 * 1024) },
    spanProcessors: [
      new BatchSpanProcessor({
        exporter,
        maxQueueSize: positive(env.OTEL_BSP_MAX_QUEUE_SIZE, 2048),
        maxExportBatchSize: positive(env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, 512),
        scheduledDelayMillis: positive(env.OTEL_BSP_SCHEDULE_DELAY, 5000),
        exportTimeoutMillis: positive(env.OTEL_BSP_EXPORT_TIMEOUT, 30_000),
      }),
    ],
  });
  const tracer = provider.getTracer("openclaw-gateway", VERSION);
  const servers = new Map<string, Attributes>();
  const serverOf = (providerId: string): Attributes => {
    const baseUrl = options.runtime().provider(providerId).baseUrl;
    let attributes = servers.get(baseUrl);
    if (!attributes) {
      const url = new URL(baseUrl);
      const port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
      attributes = { "server.address": url.hostname, "server.port": port };
      if (servers.size < 256) servers.set(baseUrl, attributes);
    }
    return attributes;
  };

  return {
    startTrace(headers, endpoint, requestId) {
      const route = ROUTES[endpoint] ?? endpoint;
      const operation = endpoint === "embeddings" ? "embeddings" : "chat";
      const span = tracer.startSpan(
        `POST ${route}`,
        {
          kind: SpanKind.SERVER,
          attributes: {
            "http.request.method": "POST",
            "http.route": route,
            "gen_ai.operation.name": operation,
            "openclaw.request_id": requestId,
          },
        },
        parentFrom(headers),
      );
      const parent = trace.setSpan(ROOT_CONTEXT, span);
      const capture = options.captureContent();
      return {
        attempt: (info) => startAttempt(info, parent, capture),
        end: (end) => endRequest(span, end),
      };
    },
    close: async () => {
      await provider.shutdown();
    },
  };

  function startAttempt(info: AttemptInfo, parent: Context, capture: boolean): AttemptTrace {
    const body = (info.request ?? {}) as Record<string, unknown>;
    const attributes: Attributes = {
      "gen_ai.operation.name": info.operation,
      "gen_ai.provider.name": info.ref.provider,
      "gen_ai.request.model": info.ref.modelId,
      "gen_ai.request.stream": info.stream,
      ...serverOf(info.ref.provider),
    };
    for (const [field, name] of REQUEST_PARAMETERS) if (typeof body[field] === "number") attributes[name] = body[field] as number;
    if (capture && Array.isArray(body.messages)) attributes["gen_ai.input.messages"] = inputMessages(body.messages);
    const span = tracer.startSpan(`${info.operation} ${info.ref.modelId}`, { kind: SpanKind.CLIENT, attributes }, parent);
    return { end: (outcome) => endAttempt(span, outcome, capture) };
  }
}

const REQUEST_PARAMETERS = [
  ["max_tokens", "gen_ai.request.max_tokens"],
  ["max_completion_tokens", "gen_ai.request.max_tokens"],
  ["temperature", "gen_ai.request.temperature"],
  ["top_p", "gen_ai.request.top_p"],
  ["seed", "gen_ai.request.seed"],
] as const;

type Answer = {
  id?: unknown;
  model?: unknown;
  usage?: { prompt_tokens?: number; completion_tokens?: number; prompt_tokens_details?: { cached_tokens?: number } | null } | null;
  choices?: Array<{ message?: unknown; finish_reason?: unknown }>;
  output?: unknown;
};

function endAttempt(span: Span, outcome: AttemptOutcome, capture: boolean): void {
  if (outcome.error !== undefined) {
    span.setAttribute("error.type", errorType(outcome.error) || "_OTHER");
    span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error instanceof Error ? outcome.error.message : String(outcome.error) });
    span.end();
    return;
  }
  const answer = (outcome.result ?? {}) as Answer;
  const usage = answer.usage;
  if (typeof answer.model === "string") span.setAttribute("gen_ai.response.model", answer.model);
  if (typeof answer.id === "string") span.setAttribute("gen_ai.response.id", answer.id);
  if (typeof usage?.prompt_tokens === "number") span.setAttribute("gen_ai.usage.input_tokens", usage.prompt_tokens);
  if (typeof usage?.completion_tokens === "number") span.setAttribute("gen_ai.usage.output_tokens", usage.completion_tokens);
  const cached = usage?.prompt_tokens_details?.cached_tokens;
  if (typeof cached === "number") span.setAttribute("gen_ai.usage.cache_read.input_tokens", cached);
  const choices = Array.isArray(answer.choices) ? answer.choices : [];
  const reasons = choices.map((choice) => choice.finish_reason).filter((reason): reason is string => typeof reason === "string");
  if (reasons.length) span.setAttribute("gen_ai.response.finish_reasons", reasons);
  if (capture) {
    const output = choices.length ? choices : answer.output ? [{ message: answer.output }] : [];
    if (output.length) span.setAttribute("gen_ai.output.messages", outputMessages(output));
  }
  span.end();
}

function endRequest(span: Span, end: RequestEnd): void {
  const { row } = end;
  span.setAttribute("http.response.status_code", end.status);
  if (row.model) span.setAttribute("gen_ai.request.model", row.model);
  if (row.provider) span.setAttribute("gen_ai.provider.name", row.provider);
  if (row.promptTokens !== null) span.setAttribute("gen_ai.usage.input_tokens", row.promptTokens);
  if (row.completionTokens !== null) span.setAttribute("gen_ai.usage.output_tokens", row.completionTokens);
  if (row.cachedTokens !== null) span.setAttribute("gen_ai.usage.cache_read.input_tokens", row.cachedTokens);
  span.setAttribute("openclaw.overhead_ms", Math.round(end.overheadMs * 100) / 100);
  if (row.status !== "ok") {
    span.setAttribute("error.type", row.status === "aborted" ? "aborted" : String(end.status));
    span.setStatus({ code: SpanStatusCode.ERROR, ...(row.error ? { message: row.error } : {}) });
  }
  span.end();
}
