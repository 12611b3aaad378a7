import type { IncomingMessage } from "node:http";
import { routeRequest } from "../../agents/route-request.js";
import { completeChat, streamChat } from "../../agents/run-chat.js";
import { costOf, planSession } from "../../agents/session.js";
import { errorCode, InvalidRequestError, isOpenClawError, OpenClawError } from "../../shared/errors.js";
import type { AttestationReceipt, ChatMessage, Usage } from "../../shared/wire.js";
import type { TurnRecord } from "../../store/session-store.js";
import { type GatewayContext, header, type RequestLog, runOptions } from "../context.js";
import { expectObject } from "../http.js";
import { admitKey, type Caller, checkAgentScope, type KeyGrant, maxOutputOf, scopeChain } from "../key-guard.js";
import { mentionRequestId } from "../logging/request-id.js";
import { contentSetting, type LedgerEntry } from "../routes/request-ledger.js";
import { chatFields, inputToMessages, type ResponsesRequest } from "./request-to-chat.js";
import { completeResponse, newId, outputItems, outputToMessages, type ResponseObject, responseShell } from "./response-object.js";
import { ResponseStreamTranslator } from "./stream-translator.js";

/** What `previous_response_id` stands for: the conversation before that response, and its answer. */
export interface Conversation {
  history: ChatMessage[];
  output: ChatMessage[];
}

/**
 * One `response.create`, whichever transport carried it (an HTTP POST, or a WebSocket event).
 * The transport reads the body, owns the abort signal and decides where previous responses live.
 */
export interface ResponseTurn {
  body: ResponsesRequest;
  /** Names the agent, session and channel (x-openclaw-* headers): the POST, or the WebSocket upgrade. */
  request: IncomingMessage;
  signal: AbortSignal;
  log: RequestLog;
  entry: LedgerEntry;
  /** The API key calling (null: the gateway token): its scope and limits apply to every turn. */
  caller: Caller;
  /** Size of the request as received, for the key's TPM estimate. */
  bodyBytes: number;
  /** The key's grant, before anything is sent (HTTP sets its `x-ratelimit-*` headers). */
  onGrant?(grant: KeyGrant | undefined): void;
  /** An attested enclave serves the answer (end-to-end encryption): its receipt, before the first byte. */
  onReceipt?(receipt: AttestationReceipt): void;
  /** The conversation behind `previous_response_id`; throws the transport's not-found error. */
  previous(id: string): Promise<Conversation>;
  /**
   * A finished (not failed) response, before its last event leaves: the client may continue
   * from it the moment it reads that event.
   */
  finished?(final: ResponseObject, history: ChatMessage[]): void;
}

/** Where streamed events go: SSE lines or WebSocket frames. `send` returns a promise when the client is behind. */
export interface EventSink {
  /** Before the first event (SSE writes its headers then). */
  open(): void;
  send(payload: { type: string; [field: string]: unknown }): Promise<void> | undefined;
  /** After the last event. */
  close(): void;
}

/** A response that ended (completed, incomplete or failed) and the conversation that led to it. */
export interface ResponseOutcome {
  final: ResponseObject;
  history: ChatMessage[];
}

export function validateResponsesRequest(body: unknown): ResponsesRequest {
  const request = expectObject<ResponsesRequest>(body);
  if (typeof request.model !== "string")
    throw new InvalidRequestError("model is required (a provider/model ref, an alias, or openclaw:<agent>)", { param: "model" });
  checkOptional(request, "stream", "boolean");
  checkOptional(request, "store", "boolean");
  checkOptional(request, "background", "boolean");
  checkOptional(request, "previous_response_id", "string");
  if (request.tools !== undefined && request.tools !== null && !Array.isArray(request.tools))
    throw new InvalidRequestError("tools must be a list of function tools", { param: "tools" });
  return request;
}

/** A field the gateway acts on must have its type: `stream: "true"` is refused, not read as false. */
function checkOptional(request: object, field: string, type: "boolean" | "string"): void {
  const value = (request as Record<string, unknown>)[field];
  if (value !== undefined && value !== null && typeof value !== type)
    throw new InvalidRequestError(`${field} must be a ${type}`, { param: field });
}

/** `status` then `completed_at`, as the spec prints a finished response. */
function withCompletedAt(response: ResponseObject): ResponseObject {
  const { id, object, created_at, status, ...rest } = response;
  return { id, object, created_at, status, completed_at: Math.floor(Date.now() / 1000), ...rest };
}

/** 507 when the disk is full (retrying later may work), 500 otherwise; never an id that was not stored. */
function notStored(error: unknown): OpenClawError {
  // A shared store that is down (503) says so itself: the client may retry shortly.
  if (error instanceof OpenClawError && error.status === 503) return error;
  const full = /^SQLITE_FULL/.test(errorCode(error) ?? "");
  return new OpenClawError(
    `the response could not be stored${full ? " (the gateway's disk is full)" : ""}, so it is not returned: retry later, or send store: false`,
    { status: full ? 507 : 500, type: "server_error", code: "response_not_stored", cause: error },
  );
}

type ModelRefOf = Parameters<GatewayContext["runtime"]["findModel"]>[0];

/** Everything both answers (whole or streamed) need, resolved before the model is called. */
async function prepare(ctx: GatewayContext, turn: ResponseTurn) {
  const { body, request, entry, log } = turn;
  const routed = await routeRequest(ctx.runtime, { model: body.model, agentHeader: header(request, "x-openclaw-agent-id") });
  const { agent } = routed;
  checkAgentScope(turn.caller, agent.id);
  const chain = scopeChain(turn.caller, routed.chain);
  log.agent = entry.agentId = agent.id;
  // The model it is meant for, until one answers (a failure is recorded against the first asked).
  if (chain[0]) entry.use(chain[0]);
  log.stream = entry.stream = body.stream === true;

  let history: ChatMessage[] = [];
  if (body.previous_response_id) {
    const previous = await turn.previous(body.previous_response_id);
    history = [...previous.history, ...previous.output];
  }
  const input = inputToMessages(body.input);
  if (input.length === 0) throw new InvalidRequestError("input is required", { param: "input" });
  const conversation = [...history, ...input];
  // Each stored response carries the conversation so far: a chain must not grow past what a
  // client could send in one request.
  if (history.length > 0 && JSON.stringify(conversation).length > ctx.maxBodyBytes) {
    throw new InvalidRequestError(
      `the conversation behind previous_response_id is larger than gateway.http.maxBodyBytes (${ctx.maxBodyBytes}); start a new conversation`,
      { code: "context_too_large", param: "previous_response_id" },
    );
  }
  const system = [agent.systemPrompt, body.instructions ?? undefined]
    .filter((text): text is string => Boolean(text))
    .map((content) => ({ role: "system", content }));
  const id = newId("resp");
  const createdAt = Math.floor(Date.now() / 1000);
  // A stored response keeps what continuity needs whatever gateway.sessions.content says (the
  // client asked for it); the session turn follows the content setting like chat's, except that
  // `store: false` keeps no content anywhere.
  const session = planSession(
    agent.id,
    header(request, "x-openclaw-session-key"),
    body.user,
    body.store === false ? "none" : contentSetting(ctx),
  );
  entry.sessionKey = session.key;
  const channel = header(request, "x-openclaw-message-channel");

  // A response the client may continue from (previous_response_id) is stored before it is
  // answered: an id that was never stored must not reach the client.
  const save = async (final: ResponseObject) => {
    if (!final.store) return;
    try {
      await ctx.store.saveResponse({
        id,
        agentId: agent.id,
        createdAt,
        response: final,
        history: conversation,
        output: outputToMessages(final.output),
      });
    } catch (error) {
      ctx.logger.error({ err: (error as Error).message, id }, "could not store the response");
      throw notStored(error);
    }
  };

  const remember = async (
    final: ResponseObject,
    model: string,
    usage: Usage | null,
    modelRef: ModelRefOf,
    status: TurnRecord["status"] = final.status === "failed" ? "error" : "ok",
  ) => {
    const cost = costOf(usage, (await ctx.runtime.findModel(modelRef))?.cost);
    entry.record(status, usage, cost, final.error?.message);
    if (session.key === null) return;
    ctx.store.recordTurn({
      sessionKey: session.key,
      agentId: agent.id,
      channel,
      model,
      endpoint: "responses",
      requestId: entry.requestId,
      input: session.content ? input : [],
      output: session.content ? (outputToMessages(final.output)[0] ?? null) : null,
      usage,
      cost,
      status,
      error: final.error?.message,
      at: Date.now(),
    });
  };

  // Last, once everything that can refuse the request has: a refused request costs the key nothing.
  entry.grant = await admitKey(ctx.keys, turn.caller, { bodyBytes: turn.bodyBytes, maxOutputTokens: maxOutputOf(body) });
  turn.onGrant?.(entry.grant);
  return { chain, conversation, messages: [...system, ...conversation], fields: chatFields(body), id, createdAt, save, remember };
}

/** `stream: false` over HTTP: the whole response, stored (when asked) before `answer` sends it. */
export async function completeResponseTurn(
  ctx: GatewayContext,
  turn: ResponseTurn,
  answer: (final: ResponseObject) => void,
): Promise<void> {
  const { body, signal, log, entry } = turn;
  const { chain, messages, fields, id, createdAt, save, remember } = await prepare(ctx, turn);
  const { ref, result } = await completeChat(
    ctx.runtime,
    chain,
    { ...fields, messages },
    { ...runOptions(ctx, signal, entry), ...(turn.onReceipt ? { onReceipt: turn.onReceipt } : {}) },
  );
  log.model = ref.ref;
  entry.use(ref);
  const choice = result.choices?.[0];
  const final = withCompletedAt(
    completeResponse(
      responseShell(body, id, ref.ref, createdAt),
      outputItems(choice?.message),
      result.usage ?? null,
      choice?.finish_reason,
    ),
  );
  try {
    await save(final);
  } catch (error) {
    const failed = { ...final, status: "failed" as const, error: { code: "response_not_stored", message: (error as Error).message } };
    await remember(failed, ref.ref, result.usage ?? null, ref);
    throw error;
  }
  answer(final);
  await remember(final, ref.ref, result.usage ?? null, ref);
}

/**
 * The one producer of streamed `response.*` events, for SSE and WebSocket alike. Errors before
 * the first event are thrown (the transport answers them); after it they end the stream with
 * `response.failed`. Resolves with the outcome, or undefined when the client left mid-stream.
 */
export async function streamResponseTurn(ctx: GatewayContext, turn: ResponseTurn, sink: EventSink): Promise<ResponseOutcome | undefined> {
  const { body, signal, log, entry } = turn;
  const { chain, conversation, messages, fields, id, createdAt, save, remember } = await prepare(ctx, turn);
  const { ref, result: stream } = await streamChat(
    ctx.runtime,
    chain,
    { ...fields, messages, stream_options: { include_usage: true } },
    { ...runOptions(ctx, signal, entry), ...(turn.onReceipt ? { onReceipt: turn.onReceipt } : {}) },
  );
  log.model = ref.ref;
  entry.use(ref);
  sink.open();
  const translator = new ResponseStreamTranslator(
    (_event, payload) => sink.send(payload as { type: string }) ?? Promise.resolve(),
    responseShell(body, id, ref.ref, createdAt),
  );
  let final: ResponseObject;
  let usage: Usage | null = null;
  try {
    await translator.start();
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      await translator.push(chunk);
    }
    final = await translator.finish(async (response) => {
      await save(response);
      turn.finished?.(response, conversation);
    });
  } catch (error) {
    if (signal.aborted) {
      // The client left (or a shutdown cut the stream): the turn is recorded as cut, not lost.
      log.error = "client disconnected";
      const partial: ResponseObject = { ...responseShell(body, id, ref.ref, createdAt), status: "incomplete" };
      await remember(partial, ref.ref, usage, ref, "aborted");
      return undefined;
    }
    const message = error instanceof Error ? error.message : String(error);
    log.error = message;
    final = await translator.fail({
      code: isOpenClawError(error) ? (error.code ?? "server_error") : "server_error",
      message: mentionRequestId(message, isOpenClawError(error) ? error.status : 500, entry.requestId),
    });
    // A failed response is kept too (it can be retrieved), unless storing is what failed.
    if (errorCode(error) !== "response_not_stored") {
      try {
        await save(final);
      } catch {
        // Logged by save; the client already has its `response.failed`.
      }
    }
  }
  sink.close();
  await remember(final, ref.ref, usage, ref);
  return { final, history: conversation };
}
