import { Counter, collectDefaultMetrics, type Metric, Registry } from "prom-client";
import type { RoutingDecision } from "../../agents/routing.js";
import type { ModelRuntime } from "../../models/model-runtime.js";
import type { AttestationEvent } from "../../shared/attestation-events.js";
import { errorType } from "./error-type.js";
import { FastCounter, FastGauge, FastHistogram } from "./fast-series.js";
import { ModelLabels } from "./model-labels.js";
import type { AttemptInfo, GatewayObserver, RequestEnd } from "./observer.js";

export type MetricsPart = Omit<GatewayObserver, "startTrace" | "close">;

// Bucket boundaries: the GenAI semantic conventions' advice where they give one.
const OPERATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

const ROUTES: Record<string, string> = {
  "chat.completions": "/v1/chat/completions",
  responses: "/v1/responses",
  embeddings: "/v1/embeddings",
};
const operationOf = (endpoint: string) => (endpoint === "embeddings" ? "embeddings" : "chat");

/**
 * The gateway's Prometheus metrics (names after the OpenTelemetry GenAI conventions where one
 * exists, `openclaw_*` otherwise). Observed once per request and once per upstream attempt, never
 * per chunk. Every label has a bounded set of values: routes and providers from the code and the
 * config, models from the catalog ("other" for the rest), statuses are HTTP codes.
 */
export function createMetrics(runtime: () => ModelRuntime): MetricsPart {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  const models = new ModelLabels(runtime);
  // Per-request series: our own accumulators (see fast-series.ts), rendered by the registry.
  const own = <T extends { name: string }>(metric: T): T => {
    registry.registerMetric(metric as unknown as Metric);
    return metric;
  };
  const genAi = ["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model"];

  const requestDuration = own(
    new FastHistogram(
      "openclaw_http_request_duration_seconds",
      "Model requests (chat, responses, embeddings) from arrival to recording, by route, model, provider, status line and outcome",
      ["route", "model", "provider", "status", "outcome", "stream"],
      REQUEST_BUCKETS,
    ),
  );
  const overhead = own(
    new FastHistogram(
      "openclaw_gateway_overhead_seconds",
      "The gateway's own time per model request, not waiting for the upstream (up to the response head; see x-openclaw-overhead-ms)",
      ["route", "stream"],
      OVERHEAD_BUCKETS,
    ),
  );
  const operationDuration = own(
    new FastHistogram(
      "gen_ai_client_operation_duration_seconds",
      "One upstream attempt, from the call to its answer (a stream: to its end)",
      [...genAi, "error_type"],
      OPERATION_BUCKETS,
    ),
  );
  const timeToFirstToken = own(
    new FastHistogram(
      "gen_ai_server_time_to_first_token_seconds",
      "From a streamed attempt's call to its first chunk with content",
      genAi,
      TTFT_BUCKETS,
    ),
  );
  const tokenUsage = own(
    new FastHistogram(
      "gen_ai_client_token_usage",
      "Tokens per request as the upstream reported them",
      [...genAi, "gen_ai_token_type"],
      TOKEN_BUCKETS,
    ),
  );
  const tokens = own(
    new FastCounter("openclaw_tokens_total", "Tokens as the upstream reported them: input, output, and the cached part of input", [
      "provider",
      "model",
      "type",
    ]),
  );
  const cost = own(
    new FastCounter("openclaw_cost_usd_total", "Spend in USD from the catalog's prices and the real usage", ["provider", "model"]),
  );
  const openStreams = own(new FastGauge("openclaw_open_streams", "Streamed answers being relayed now", []));
  openStreams.inc([], 0);
  // Rare events: prom-client's own counters.
  const decisions = new Counter({
    name: "openclaw_routing_decisions_total",
    help: "Routing decisions: retry, fallback, cooldown, cooldown-skip, first-byte-timeout",
    labelNames: ["decision", "provider"],
    registers,
  });
  const keyRejections = new Counter({
    name: "openclaw_key_rejections_total",
    help: "Requests refused by an API key's limits, by limit (requests, tokens, parallel, budget)",
    labelNames: ["limit"],
    registers,
  });
  const lockouts = new Counter({
    name: "openclaw_auth_lockout_refusals_total",
    help: "Requests refused because their client (or every client) is locked out after failed authentications",
    labelNames: ["scope"],
    registers,
  });
  const attestations = new Counter({
    name: "openclaw_tee_attestations_total",
    help: "TEE attestation verifications, by provider and result (verified, failed, unavailable)",
    labelNames: ["provider", "result"],
    registers,
  });

  const attemptLabels = (info: AttemptInfo, model: string) => [info.operation, info.ref.provider, model];

  return {
    attemptEnded(info, durationMs, error) {
      models.with(info.ref, (model) => operationDuration.observe([...attemptLabels(info, model), errorType(error)], durationMs / 1000));
    },
    firstChunk(info, ms) {
      models.with(info.ref, (model) => timeToFirstToken.observe(attemptLabels(info, model), ms / 1000));
    },
    streamOpened: () => openStreams.inc([]),
    streamClosed: () => openStreams.dec([]),
    requestEnded(end: RequestEnd) {
      const { row } = end;
      const route = ROUTES[row.endpoint] ?? "other";
      const stream = row.stream ? "true" : "false";
      overhead.observe([route, stream], end.overheadMs / 1000);
      models.with(end.ref, (model) => {
        const provider = row.provider ?? "none";
        requestDuration.observe([route, model, provider, String(end.status), row.status, stream], end.durationMs / 1000);
        const operation = operationOf(row.endpoint);
        if (row.promptTokens !== null) {
          tokenUsage.observe([operation, provider, model, "input"], row.promptTokens);
          tokens.inc([provider, model, "input"], row.promptTokens);
        }
        if (row.completionTokens !== null) {
          tokenUsage.observe([operation, provider, model, "output"], row.completionTokens);
          tokens.inc([provider, model, "output"], row.completionTokens);
        }
        if (row.cachedTokens !== null) tokens.inc([provider, model, "cached"], row.cachedTokens);
        if (row.cost !== null && row.cost > 0) cost.inc([provider, model], row.cost);
      });
    },
    decision(decision: RoutingDecision) {
      decisions.inc({ decision: decision.decision, provider: decision.model.split("/", 1)[0] ?? "none" });
    },
    keyRejected: (limit) => keyRejections.inc({ limit }),
    lockedOut: (global) => lockouts.inc({ scope: global ? "global" : "client" }),
    attestation: (event: AttestationEvent) => attestations.inc({ provider: event.provider, result: event.result }),
    scrape: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };
}
