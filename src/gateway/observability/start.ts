import { attestationEvents } from "../../shared/attestation-events.js";
import type { GatewayContext } from "../context.js";
import type { MetricsPart } from "./metrics.js";
import type { GatewayObserver } from "./observer.js";
import type { RequestTracer } from "./tracing.js";

/** Traces are on when the standard OpenTelemetry variables name an endpoint (and do not switch the SDK off). */
export function tracingConfigured(env: NodeJS.ProcessEnv): boolean {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  return Boolean(endpoint) && env.OTEL_SDK_DISABLED !== "true" && env.OTEL_TRACES_EXPORTER !== "none";
}

// One gateway per process: each part is loaded at most once (prom-client and OpenTelemetry are
// imported here, after the gateway listens, and only when wanted).
let metrics: Promise<MetricsPart> | undefined;
let tracer: Promise<RequestTracer> | undefined;
let building: Promise<GatewayObserver | undefined> | undefined;
let subscribed = false;

/**
 * The gateway's observer, built on first call (after listen) from what the config and the
 * environment ask for: metrics unless `gateway.metrics.enabled` is false, traces when
 * OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set. Metrics turned on by a config reload load on the
 * next call (a scrape).
 */
export function ensureObserver(ctx: GatewayContext, env: NodeJS.ProcessEnv = process.env): Promise<GatewayObserver | undefined> {
  const wantsMetrics = ctx.runtime.config.gateway?.metrics?.enabled !== false;
  if (ctx.observer && (ctx.observer.scrape || !wantsMetrics)) return Promise.resolve(ctx.observer);
  building ??= build(ctx, wantsMetrics, env).finally(() => {
    building = undefined;
  });
  return building;
}

async function build(ctx: GatewayContext, wantsMetrics: boolean, env: NodeJS.ProcessEnv): Promise<GatewayObserver | undefined> {
  if (wantsMetrics) metrics ??= import("./metrics.js").then((module) => module.createMetrics(() => ctx.runtime));
  if (tracingConfigured(env)) {
    tracer ??= import("./tracing.js").then((module) =>
      module.createTracer({
        env,
        runtime: () => ctx.runtime,
        captureContent: () => ctx.runtime.config.gateway?.telemetry?.captureContent === true,
      }),
    );
  }
  const parts = { metrics: await metrics, tracer: await tracer };
  if (!parts.metrics && !parts.tracer) return undefined;
  const observer = compose(parts.metrics, parts.tracer);
  ctx.observer = observer;
  // Refusals counted where they are decided; each hook is one optional call there.
  if (ctx.keys) ctx.keys.onRejected = (limit) => ctx.observer?.keyRejected(limit);
  ctx.auth.onLockedOut = (global) => ctx.observer?.lockedOut(global);
  if (!subscribed) {
    subscribed = true;
    attestationEvents.subscribe((event) => ctx.observer?.attestation(event as Parameters<GatewayObserver["attestation"]>[0]));
  }
  return observer;
}

const ignore = () => {};
/** How long shutdown waits for queued spans to be exported. */
const CLOSE_TIMEOUT_MS = 5_000;

function compose(metricsPart: MetricsPart | undefined, tracerPart: RequestTracer | undefined): GatewayObserver {
  return {
    ...(tracerPart ? { startTrace: tracerPart.startTrace } : {}),
    attemptEnded: metricsPart?.attemptEnded ?? ignore,
    firstChunk: metricsPart?.firstChunk ?? ignore,
    streamOpened: metricsPart?.streamOpened ?? ignore,
    streamClosed: metricsPart?.streamClosed ?? ignore,
    requestEnded: metricsPart?.requestEnded ?? ignore,
    decision: metricsPart?.decision ?? ignore,
    keyRejected: metricsPart?.keyRejected ?? ignore,
    lockedOut: metricsPart?.lockedOut ?? ignore,
    attestation: metricsPart?.attestation ?? ignore,
    ...(metricsPart?.scrape ? { scrape: metricsPart.scrape } : {}),
    close: async () => {
      if (!tracerPart) return;
      // A collector that is down must not hold the shutdown: what it has not taken by then is lost.
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
      });
      await Promise.race([tracerPart.close().catch(() => undefined), deadline]);
      clearTimeout(timer);
    },
  };
}
