import type { IncomingMessage, ServerResponse } from "node:http";
import { routeRequest } from "../../agents/route-request.js";
import { completeChat, streamChat } from "../../agents/run-chat.js";
import { costOf, newMessages, planSession } from "../../agents/session.js";
import type { ModelRef } from "../../models/model-ref.js";
import { InvalidRequestError, isOpenClawError, OpenClawError } from "../../shared/errors.js";
import type { AttestationReceipt, ChatCompletionRequest, ChatMessage, Usage } from "../../shared/wire.js";
import type { TurnRecord } from "../../store/session-store.js";
import { relayChatStream } from "../chat-stream.js";
import { type GatewayContext, header, type RequestLog, type RouteHandler, runOptions } from "../context.js";
import { abortOnClientClose, bodyBytesOf, errorBody, expectObject, readJsonBody, sendJson } from "../http.js";
import { admitKey, applyGrantHeaders, type Caller, checkAgentScope, maxOutputOf, scopeChain } from "../key-guard.js";
import { endEventStream, startEventStream, writeEvent } from "../sse.js";
import { formatTeeReceipt, TEE_RECEIPT_HEADER } from "../tee-receipt.js";
import { contentSetting, type LedgerEntry, withLedgerEntry } from "./request-ledger.js";

function validate(body: unknown): ChatCompletionRequest {
  const request = expectObject<ChatCompletionRequest>(body);
  if (typeof request.model !== "string")
    throw new InvalidRequestError("model is required (a provider/model ref, an alias, or openclaw:<agent>)", { param: "model" });
  if (!Array.isArray(request.messages) || request.messages.length === 0)
    throw new InvalidRequestError("messages must be a non-empty array", { param: "messages" });
  if (request.stream !== undefined && request.stream !== null && typeof request.stream !== "boolean")
    throw new InvalidRequestError("stream must be a boolean", { param: "stream" });
  const streamOptions: unknown = request.stream_options;
  if (streamOptions !== undefined && streamOptions !== null && (typeof streamOptions !== "object" || Array.isArray(streamOptions)))
    throw new InvalidRequestError("stream_options must be an object", { param: "stream_options" });
  for (const [index, message] of request.messages.entries()) {
    if (typeof message !== "object" || message === null || typeof message.role !== "string") {
      throw new InvalidRequestError(`messages[${index}] must be an object with a role`, { param: `messages[${index}]` });
    }
  }
  return request;
}

async function price(ctx: GatewayContext, ref: ModelRef, usage: Usage | null): Promise<number | null> {
  return costOf(usage, (await ctx.runtime.findModel(ref))?.cost);
}

export const handleChatCompletions: RouteHandler = (ctx, request, response, log, caller) =>
  withLedgerEntry(
    ctx,
    log,
    "chat.completions",
    (entry) => chatCompletions(ctx, request, response, log, entry, caller),
    caller?.id,
    request,
  );

async function chatCompletions(
  ctx: GatewayContext,
  request: IncomingMessage,
  response: ServerResponse,
  log: RequestLog,
  entry: LedgerEntry,
  caller: Caller,
): Promise<void> {
  const body = validate(await readJsonBody(request, ctx.maxBodyBytes));
  const routed = await routeRequest(ctx.runtime, { model: body.model, agentHeader: header(request, "x-openclaw-agent-id") });
  const { agent } = routed;
  checkAgentScope(caller, agent.id);
  const chain = scopeChain(caller, routed.chain);
  entry.grant = await admitKey(ctx.keys, caller, { bodyBytes: bodyBytesOf(request), maxOutputTokens: maxOutputOf(body) });
  applyGrantHeaders(response, entry.grant);
  const session = planSession(agent.id, header(request, "x-openclaw-session-key"), body.user, contentSetting(ctx));
  log.agent = entry.agentId = agent.id;
  // The model it is meant for, until one answers (a failure is recorded against the first asked).
  if (chain[0]) entry.use(chain[0]);
  log.stream = entry.stream = body.stream === true;
  entry.sessionKey = session.key;
  const { model: _model, ...fields } = body;
  const messages: ChatMessage[] = agent.systemPrompt ? [{ role: "system", content: agent.systemPrompt }, ...body.messages] : body.messages;
  const channel = header(request, "x-openclaw-message-channel");
  const record = async (ref: ModelRef, fields: Pick<TurnRecord, "output" | "usage" | "status"> & { error?: string }) => {
    const cost = await price(ctx, ref, fields.usage);
    entry.record(fields.status, fields.usage, cost, fields.error, fields.output);
    if (session.key === null) return;
    ctx.store.recordTurn({
      sessionKey: session.key,
      agentId: agent.id,
      channel,
      endpoint: "chat.completions",
      requestId: entry.requestId,
      model: ref.ref,
      ...fields,
      input: session.content ? newMessages(body.messages) : [],
      output: session.content ? fields.output : null,
      cost,
      at: Date.now(),
      ...(receipt ? { receipt } : {}),
    });
  };
  // An answer computed in an attested enclave says so, before its first byte.
  let receipt: AttestationReceipt | undefined;
  const onReceipt = (served: AttestationReceipt) => {
    receipt = served;
    if (!response.headersSent) response.setHeader(TEE_RECEIPT_HEADER, formatTeeReceipt(served));
  };

  // The client going away aborts the upstream call at once.
  const signal = abortOnClientClose(response);

  if (body.stream !== true) {
    const { ref, result } = await completeChat(
      ctx.runtime,
      chain,
      { ...fields, messages },
      { ...runOptions(ctx, signal, entry), onReceipt },
    );
    log.model = ref.ref;
    entry.use(ref);
    result.model = ref.ref;
    sendJson(response, 200, result);
    await record(ref, { output: result.choices?.[0]?.message ?? null, usage: result.usage ?? null, status: "ok" });
    return;
  }

  const includeUsage = body.stream_options?.include_usage === true;
  // Always ask the upstream for usage: accounting needs real numbers, not zeros.
  const upstreamBody = { ...fields, messages, stream_options: { ...body.stream_options, include_usage: true } };
  const { ref, result: stream } = await streamChat(ctx.runtime, chain, upstreamBody, {
    ...runOptions(ctx, signal, entry),
    onReceipt,
  });
  log.model = ref.ref;
  entry.use(ref);
  startEventStream(response);
  try {
    const outcome = await relayChatStream(response, stream, { model: ref.ref, includeUsage });
    endEventStream(response, "data: [DONE]\n\n");
    await record(ref, { output: outcome.message, usage: outcome.usage, status: "ok" });
  } catch (error) {
    if (signal.aborted) {
      log.error = "client disconnected";
      await record(ref, { output: null, usage: null, status: "aborted" });
      return;
    }
    // After the first byte the status line is gone: the error travels as one event, then the stream ends.
    const failure = isOpenClawError(error)
      ? error
      : new OpenClawError("the upstream stream failed", { status: 502, type: "upstream_error" });
    log.error = failure.message;
    await writeEvent(response, JSON.stringify(errorBody(failure, entry.requestId)));
    endEventStream(response);
    await record(ref, { output: null, usage: null, status: "error", error: failure.message });
  }
}
