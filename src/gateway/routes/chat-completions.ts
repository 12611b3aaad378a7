import { routeRequest } from "../../agents/route-request.js";
import { completeChat, streamChat } from "../../agents/run-chat.js";
import { costOf, newMessages, resolveSessionKey } from "../../agents/session.js";
import type { ModelRef } from "../../models/model-ref.js";
import { InvalidRequestError, isOpenClawError, OpenClawError } from "../../shared/errors.js";
import type { ChatCompletionRequest, ChatMessage, Usage } from "../../shared/wire.js";
import type { TurnRecord } from "../../store/session-store.js";
import { relayChatStream } from "../chat-stream.js";
import { type GatewayContext, header, logFallbacks, type RouteHandler } from "../context.js";
import { abortOnClientClose, expectObject, readJsonBody, sendJson } from "../http.js";
import { endEventStream, startEventStream, writeEvent } from "../sse.js";

function validate(body: unknown): ChatCompletionRequest {
  const request = expectObject<ChatCompletionRequest>(body);
  if (typeof request.model !== "string")
    throw new InvalidRequestError("model is required (a provider/model ref, an alias, or openclaw:<agent>)", { param: "model" });
  if (!Array.isArray(request.messages) || request.messages.length === 0)
    throw new InvalidRequestError("messages must be a non-empty array", { param: "messages" });
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

export const handleChatCompletions: RouteHandler = async (ctx, request, response, log) => {
  const body = validate(await readJsonBody(request, ctx.maxBodyBytes));
  const { agent, chain } = await routeRequest(ctx.runtime, { model: body.model, agentHeader: header(request, "x-openclaw-agent-id") });
  const sessionKey = resolveSessionKey(agent.id, header(request, "x-openclaw-session-key"), body.user);
  log.agent = agent.id;
  log.stream = body.stream === true;
  const { model: _model, ...fields } = body;
  const messages: ChatMessage[] = agent.systemPrompt ? [{ role: "system", content: agent.systemPrompt }, ...body.messages] : body.messages;
  const turn = {
    sessionKey,
    agentId: agent.id,
    channel: header(request, "x-openclaw-message-channel"),
    endpoint: "chat.completions",
    input: newMessages(body.messages),
  };
  const record = (fields: Pick<TurnRecord, "model" | "output" | "usage" | "cost" | "status"> & { error?: string }) =>
    ctx.store.recordTurn({ ...turn, ...fields, at: Date.now() });

  // The client going away aborts the upstream call at once.
  const signal = abortOnClientClose(response);

  if (body.stream !== true) {
    const { ref, result } = await completeChat(ctx.runtime, chain, { ...fields, messages }, { signal, onFallback: logFallbacks(ctx) });
    log.model = ref.ref;
    result.model = ref.ref;
    sendJson(response, 200, result);
    const usage = result.usage ?? null;
    record({ model: ref.ref, output: result.choices?.[0]?.message ?? null, usage, cost: await price(ctx, ref, usage), status: "ok" });
    return;
  }

  const includeUsage = body.stream_options?.include_usage === true;
  // Always ask the upstream for usage: accounting needs real numbers, not zeros.
  const upstreamBody = { ...fields, messages, stream_options: { ...body.stream_options, include_usage: true } };
  const { ref, result: stream } = await streamChat(ctx.runtime, chain, upstreamBody, { signal, onFallback: logFallbacks(ctx) });
  log.model = ref.ref;
  startEventStream(response);
  try {
    const outcome = await relayChatStream(response, stream, { model: ref.ref, includeUsage });
    endEventStream(response, "data: [DONE]\n\n");
    record({ model: ref.ref, output: outcome.message, usage: outcome.usage, cost: await price(ctx, ref, outcome.usage), status: "ok" });
  } catch (error) {
    if (signal.aborted) {
      log.error = "client disconnected";
      record({ model: ref.ref, output: null, usage: null, cost: null, status: "aborted" });
      return;
    }
    // After the first byte the status line is gone: the error travels as one event, then the stream ends.
    const failure = isOpenClawError(error)
      ? error
      : new OpenClawError("the upstream stream failed", { status: 502, type: "upstream_error" });
    log.error = failure.message;
    await writeEvent(response, JSON.stringify(failure.toBody()));
    endEventStream(response);
    record({ model: ref.ref, output: null, usage: null, cost: null, status: "error", error: failure.message });
  }
};
