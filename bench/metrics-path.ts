import { performance } from "node:perf_hooks";
import { createMetrics } from "../src/gateway/observability/metrics.js";
import type { GatewayObserver } from "../src/gateway/observability/observer.js";
import { RequestObservation } from "../src/gateway/observability/request-observation.js";
import type { ModelRuntime } from "../src/models/model-runtime.js";
import type { RequestRecord } from "../src/store/usage-ledger.js";

const REF = { provider: "bench", modelId: "bench-model", baseId: "bench-model", ref: "bench/bench-model" };
const ROW: RequestRecord = {
  requestId: "req_bench",
  at: 0,
  agentId: "main",
  model: REF.ref,
  provider: "bench",
  endpoint: "chat.completions",
  status: "ok",
  promptTokens: 11,
  completionTokens: 4,
  cachedTokens: 6,
  cost: 0.00001,
  latencyMs: 1,
  sessionKey: null,
  stream: false,
};

/**
 * CPU per request of what metrics add on the request path, in process: a request's observation
 * (timing, one attempt, its end) with the real metrics observer, against the same without one
 * (what a gateway with `gateway.metrics.enabled: false` still does for the overhead header).
 * Printed, never asserted.
 */
export async function benchMetricsPath(iterations: number): Promise<void> {
  const model = { provider: "bench", id: "bench-model" };
  const runtime = { findModel: async () => model } as unknown as ModelRuntime;
  const metrics = createMetrics(() => runtime) as GatewayObserver;
  const headers = {};
  const request = (observer: GatewayObserver | undefined, stream: boolean) => {
    const observation = new RequestObservation(observer, { headers }, "chat.completions", "req_bench");
    const ended = observation.attempt({ ref: REF, operation: "chat", stream });
    ended({ result: undefined });
    observation.ended(stream ? { ...ROW, stream } : ROW, REF);
  };
  // The first sight of a model asks the catalog (a promise): let it answer before timing.
  request(metrics, false);
  await new Promise((resolve) => setTimeout(resolve, 10));
  const run = (observer: GatewayObserver | undefined, stream: boolean) => {
    const started = performance.now();
    for (let i = 0; i < iterations; i++) request(observer, stream);
    return ((performance.now() - started) * 1000) / iterations;
  };
  for (const stream of [false, true]) run(metrics, stream);
  console.log(`\nMetrics on the request path, in process (${iterations} requests, one attempt each):`);
  for (const stream of [false, true]) {
    const without = Math.min(run(undefined, stream), run(undefined, stream));
    const withMetrics = Math.min(run(metrics, stream), run(metrics, stream));
    console.log(
      `  ${stream ? "stream" : "JSON  "}: observation alone ${without.toFixed(2)} µs, with metrics ${withMetrics.toFixed(2)} µs (metrics add ${(withMetrics - without).toFixed(2)} µs per request)`,
    );
  }
}
