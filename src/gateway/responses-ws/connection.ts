import type { IncomingMessage } from "node:http";
import { performance } from "node:perf_hooks";
import WebSocket from "ws";
import type { GatewayContext, RequestLog } from "../context.js";
import type { Caller } from "../key-guard.js";
import { mentionRequestId, newRequestId } from "../logging/request-id.js";
import { outputToMessages } from "../responses/response-object.js";
import { type EventSink, streamResponseTurn } from "../responses/run-response.js";
import { withLedgerEntry } from "../routes/request-ledger.js";
import { formatTeeReceipt } from "../tee-receipt.js";
import { alreadyInFlight, closingError, errorEvent, parseClientEvent, previousNotFound } from "./client-events.js";
import { ConnectionCache } from "./connection-cache.js";
import { withReceiptMetadata } from "./receipt-metadata.js";

/** Past this much unsent output, the producer waits for the client (as the SSE writer waits for drain). */
export const SEND_HIGH_WATER_BYTES = 1024 * 1024;

export interface ConnectionSettings {
  maxAgeMs: number;
  pingIntervalMs: number;
}

const TERMINAL_EVENTS = new Set(["response.completed", "response.incomplete", "response.failed"]);

/** One response in flight; `receipt` is set when an attested enclave serves it (end-to-end encryption). */
interface Turn {
  controller: AbortController;
  receipt?: string;
}

export const CLOSE_SHUTDOWN = { code: 1001, reason: "the gateway is shutting down" } as const;
export const CLOSE_MAX_AGE = { code: 1001, reason: "maximum connection age reached (gateway.http.websocket.maxConnectionAgeMs)" } as const;

/**
 * One Responses WebSocket: `response.create` events in, the POST's `response.*` events out, one
 * response at a time. Keeps its recent responses for `previous_response_id` (even `store:
 * false`); pings the peer and drops it when a ping goes unanswered; closes when it is too old
 * or the gateway stops, after the response in flight.
 */
export class ResponsesConnection {
  private readonly cache: ConnectionCache;
  private turn: Turn | undefined;
  /** Set when no new response may start (too old, or shutting down): the socket closes when idle. */
  private closing: { code: number; reason: string } | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private alive = true;
  private readonly opened = performance.now();
  private responses = 0;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly ws: WebSocket,
    private readonly request: IncomingMessage,
    settings: ConnectionSettings,
    /** Lets the server's drain wait for a turn's recording. */
    private readonly track: (work: Promise<void>) => void,
    /** The API key the upgrade authenticated (null: the gateway token); its scope and limits apply to every response. */
    private readonly caller: Caller = null,
  ) {
    this.cache = new ConnectionCache(ctx.maxBodyBytes);
    ws.on("message", (data: Buffer, isBinary: boolean) => this.receive(data, isBinary));
    ws.on("pong", () => {
      this.alive = true;
    });
    // ws closes the socket itself on a protocol error (1002, 1009…); without a listener the error would throw.
    ws.on("error", () => undefined);
    ws.once("close", (code: number) => {
      for (const timer of this.timers) clearInterval(timer);
      // A client gone mid-response stops the upstream call.
      this.turn?.controller.abort();
      ctx.logger.info(
        { path: "/v1/responses", websocket: true, code, responses: this.responses, ms: Math.round(performance.now() - this.opened) },
        "websocket closed",
      );
    });
    const ping = setInterval(() => {
      if (!this.alive) {
        ws.terminate();
        return;
      }
      this.alive = false;
      ws.ping();
    }, settings.pingIntervalMs);
    const age = setTimeout(() => this.closeWhenIdle(CLOSE_MAX_AGE), settings.maxAgeMs);
    ping.unref();
    age.unref();
    this.timers.push(ping, age);
  }

  /** Refuse new responses and close once the one in flight (if any) has ended. */
  closeWhenIdle(close: { code: number; reason: string }): void {
    this.closing ??= close;
    if (!this.turn) this.ws.close(this.closing.code, this.closing.reason);
  }

  /** The drain is over: stop the response in flight (recorded as aborted) and close. */
  cut(): void {
    this.turn?.controller.abort();
    this.ws.close(CLOSE_SHUTDOWN.code, CLOSE_SHUTDOWN.reason);
    setTimeout(() => this.ws.terminate(), 1_000).unref();
  }

  /** A turn's failure on our side (5xx) names its request id: the turn's, not the upgrade's. */
  private sendError(error: unknown, requestId?: string): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    const event = errorEvent(error);
    if (requestId) event.error.message = mentionRequestId(String(event.error.message), event.status, requestId);
    this.ws.send(JSON.stringify(event));
  }

  private receive(data: Buffer, isBinary: boolean): void {
    let body: ReturnType<typeof parseClientEvent>;
    try {
      if (this.turn) throw alreadyInFlight();
      if (this.closing) throw closingError(this.closing.reason);
      body = parseClientEvent(data, isBinary, this.ctx.clientLimits.maxJsonDepth);
    } catch (error) {
      this.sendError(error);
      return;
    }
    const turn: Turn = { controller: new AbortController() };
    this.turn = turn;
    const work = this.run(body, turn, data.length).finally(() => this.endTurn(turn));
    this.track(work);
  }

  /**
   * The client may send its next response.create as soon as it reads the last event, while this
   * turn is still being recorded: the connection is free from that event on.
   */
  private endTurn(turn: Turn): void {
    if (this.turn !== turn) return;
    this.turn = undefined;
    this.responses++;
    if (this.closing) this.closeWhenIdle(this.closing);
  }

  private async run(body: ReturnType<typeof parseClientEvent>, turn: Turn, bodyBytes: number): Promise<void> {
    const started = performance.now();
    // Each turn is a request of its own: the upgrade's x-request-id would name them all alike.
    const log: RequestLog = { requestId: newRequestId() };
    try {
      await withLedgerEntry(
        this.ctx,
        log,
        "responses",
        async (entry) => {
          await streamResponseTurn(
            this.ctx,
            {
              body,
              request: this.request,
              signal: turn.controller.signal,
              log,
              entry,
              caller: this.caller,
              bodyBytes,
              onReceipt: (served) => {
                turn.receipt = formatTeeReceipt(served);
              },
              previous: async (id) => {
                const previous = this.cache.get(id) ?? (await this.ctx.store.getResponse(id));
                if (!previous) throw previousNotFound(id);
                return previous;
              },
              finished: (final, history) => this.cache.put(final.id, { history, output: outputToMessages(final.output) }),
            },
            this.sink(turn),
          );
        },
        this.caller?.id ?? null,
      );
    } catch (error) {
      log.error = error instanceof Error ? error.message : String(error);
      if (!(error instanceof Error) || !("status" in error))
        this.ctx.logger.error({ requestId: log.requestId, err: error }, "unexpected error");
      this.sendError(error, log.requestId);
      this.endTurn(turn);
    }
    this.ctx.logger.info(
      { method: "WS", path: "/v1/responses", ms: Math.round((performance.now() - started) * 100) / 100, ...log },
      "websocket response",
    );
  }

  private sink(turn: Turn): EventSink {
    const ws = this.ws;
    return {
      open: () => undefined,
      send: (payload) => {
        if (ws.readyState !== WebSocket.OPEN) return undefined;
        const text = JSON.stringify(withReceiptMetadata(payload, turn.receipt));
        if (ws.bufferedAmount < SEND_HIGH_WATER_BYTES) {
          ws.send(text);
          if (TERMINAL_EVENTS.has(payload.type)) this.endTurn(turn);
          return undefined;
        }
        // The callback runs once this frame is written (or the socket is gone).
        const written = new Promise<void>((resolve) => ws.send(text, () => resolve()));
        if (TERMINAL_EVENTS.has(payload.type)) this.endTurn(turn);
        return written;
      },
      close: () => undefined,
    };
  }
}
