import type { IncomingHttpHeaders } from "node:http";
import type { RoutingDecision } from "../../agents/routing.js";
import type { ModelRef } from "../../models/model-ref.js";
import type { AttestationEvent } from "../../shared/attestation-events.js";
import type { RequestRecord } from "../../store/usage-ledger.js";

/**
 * What the gateway tells its observers (Prometheus metrics, OpenTelemetry traces). Types only:
 * the request path imports this, never prom-client or OpenTelemetry, which load after the
 * gateway listens and only when they are on.
 */

/** The GenAI operation (`gen_ai.operation.name`). */
export type GenAiOperation = "chat" | "embeddings";

/** One call to an upstream model (a retry or a fallback is another attempt). */
export interface AttemptInfo {
  ref: ModelRef;
  operation: GenAiOperation;
  stream: boolean;
  /** The body sent (without `model`), for content capture on traces. */
  request?: object;
}

/** How an attempt ended: an error, or what it returned (a completion, embeddings; a stream's summary at its end). */
export interface AttemptOutcome {
  error?: unknown;
  result?: unknown;
}

/** A model request's end: its ledger row and what the row does not say. */
export interface RequestEnd {
  row: RequestRecord;
  ref: ModelRef | null;
  /** The status line the client saw; 499 when it left first. */
  status: number;
  /** The gateway's own time (see RequestTiming). */
  overheadMs: number;
  durationMs: number;
  /** The answer, when the route passed it (streams), for content capture. */
  output?: unknown;
}

/** One request's span and its attempts' spans. */
export interface RequestTrace {
  attempt(info: AttemptInfo): AttemptTrace;
  end(end: RequestEnd): void;
}

export interface AttemptTrace {
  end(outcome: AttemptOutcome): void;
}

export interface GatewayObserver {
  /** A model request begins (chat, responses, embeddings): its trace, when tracing. */
  startTrace?(headers: IncomingHttpHeaders, endpoint: string, requestId: string): RequestTrace | undefined;
  /** An upstream attempt ended (a stream's successful attempt: when the stream ends). */
  attemptEnded(info: AttemptInfo, durationMs: number, error: unknown): void;
  /** A stream's first chunk arrived, `ms` after its attempt started. */
  firstChunk(info: AttemptInfo, ms: number): void;
  streamOpened(): void;
  streamClosed(): void;
  requestEnded(end: RequestEnd): void;
  decision(decision: RoutingDecision): void;
  /** A virtual key was refused by one of its limits (requests, tokens, parallel, budget). */
  keyRejected(limit: string): void;
  /** A request was refused by an authentication lockout (its client's, or the global one). */
  lockedOut(global: boolean): void;
  attestation(event: AttestationEvent): void;
  /** Prometheus text, when metrics are on. */
  scrape?(): Promise<{ contentType: string; body: string }>;
  /** Flush and stop (traces still queued are exported, bounded). */
  close(): Promise<void>;
}
