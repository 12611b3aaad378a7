import type { IncomingMessage, ServerResponse } from "node:http";
import { routeRequest } from "../../agents/route-request.js";
import { completeChat, streamChat } from "../../agents/run-chat.js";
import { costOf, planSession } from "../../agents/session.js";
import { errorCode, InvalidRequestError, isOpenClawError, NotFoundError, OpenClawError } from "../../shared/errors.js";
import type { AttestationReceipt, ChatMessage, Usage } from "../../shared/wire.js";
import type { TurnRecord } from "../../store/session-store.js";
import { type GatewayContext, header, logFallbacks, type RequestLog, type RouteHandler } from "../context.js";
import { abortOnClientClose, expectObject, readJsonBody, sendJson } from "../http.js";
import { chatFields, inputToMessages, type ResponsesRequest } from "../responses/request-to-chat.js";
import {
  completeResponse,
  newId,
  outputItems,
  outputToMessages,
  type ResponseObject,
  responseShell,
} from "../responses/response-object.js";
import { ResponseStreamTranslator } from "../responses/stream-translator.js";
import { endEventStream, startEventStream, writeEvent } from "../sse.js";
import { formatTeeReceipt, TEE_RECEIPT_HEADER } from "../tee-receipt.js";
import { contentSetting, type LedgerEntry, withLedgerEntry } from "./request-ledger.js";

function validate(body: unknown): ResponsesRequest {
  const request = expectObject<ResponsesRequest>(body);
  if (typeof request.model !== "string")
    throw new InvalidRequestError("model is required (a provider/model ref, an alias, or openclaw:<agent>)", { param: "model" });
  return request;
}

/** `status` then `completed_at`, as the spec prints a finished response. */
function withCompletedAt(response: ResponseObject): ResponseObject {
  const { id, object, created_at, status, ...rest } = response;
  return { id, object, created_at, status, completed_at: Math.floor(Date.now() / 1000), ...rest };
}

function storedId(request: { url?: string | undefined }): string {
  const raw = (request.url ?? "").split("?")[0]?.slice("/v1/responses/".length) ?? "";
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** 507 when the disk is full (retrying later may work), 500 otherwise; never an id that was not stored. */
function notStored(error: unknown): OpenClawError {
  const full = /^SQLITE_FULL/.test(errorCode(error) ?? "");
  return new OpenClawError(
    `the response could not be stored${full ? " (the gateway's disk is full)" : ""}, so it is not returned: retry later, or send store: false`,
    { status: full ? 507 : 500, type: "server_error", code: "response_not_stored", cause: error },
  );
}

const notFound = (id: string, param: string | null = null) =>
  new NotFoundError(`Response with id '${id}' not found.`, { code: "response_not_found", param });

export const handleCreateResponse: RouteHandler = (ctx, request, response, log) =>
  withLedgerEntry(ctx, request, "responses", (entry) => createResponse(ctx, request, response, log, entry));

async function createResponse(
  ctx: GatewayContext,
  request: IncomingMessage,
  response: ServerResponse,
  log: RequestLog,
  entry: LedgerEntry,
): Promise<void> {
  const body = validate(await readJsonBody(request, ctx.maxBodyBytes));
  const { agent, chain } = await routeRequest(ctx.runtime, { model: body.model, agentHeader: header(request, "x-openclaw-agent-id") });
  log.agent = entry.agentId = agent.id;
  // The model it is meant for, until one answers (a failure is recorded against the first asked).
  if (chain[0]) entry.use(chain[0]);
  log.stream = entry.stream = body.stream === true;

  let history: ChatMessage[] = [];
  if (body.previous_response_id) {
    const previous = await ctx.store.getResponse(body.previous_response_id);
    if (!previous) throw notFound(body.previous_response_id, "previous_response_id");
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
  const messages = [...system, ...conversation];
  const fields = chatFields(body);
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

  const signal = abortOnClientClose(response);

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
    modelRef: Parameters<GatewayContext["runtime"]["findModel"]>[0],
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
      input: session.content ? input : [],
      output: session.content ? (outputToMessages(final.output)[0] ?? null) : null,
      usage,
      cost,
      status,
      error: final.error?.message,
      at: Date.now(),
    });
  };

  // An answer computed in an attested enclave says so, before its first byte.
  const onReceipt = (served: AttestationReceipt) => {
    if (!response.headersSent) response.setHeader(TEE_RECEIPT_HEADER, formatTeeReceipt(served));
  };
  if (body.stream !== true) {
    const { ref, result } = await completeChat(
      ctx.runtime,
      chain,
      { ...fields, messages },
      { signal, onFallback: logFallbacks(ctx), onReceipt },
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
    sendJson(response, 200, final);
    await remember(final, ref.ref, result.usage ?? null, ref);
    return;
  }

  const { ref, result: stream } = await streamChat(
    ctx.runtime,
    chain,
    { ...fields, messages, stream_options: { include_usage: true } },
    { signal, onFallback: logFallbacks(ctx), onReceipt },
  );
  log.model = ref.ref;
  entry.use(ref);
  startEventStream(response);
  const translator = new ResponseStreamTranslator(
    (event, payload) => writeEvent(response, JSON.stringify(payload), event) ?? Promise.resolve(),
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
    final = await translator.finish(save);
  } catch (error) {
    if (signal.aborted) {
      // The client left (or a shutdown cut the stream): the turn is recorded as cut, not lost.
      log.error = "client disconnected";
      const partial: ResponseObject = { ...responseShell(body, id, ref.ref, createdAt), status: "incomplete" };
      await remember(partial, ref.ref, usage, ref, "aborted");
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    log.error = message;
    final = await translator.fail({ code: isOpenClawError(error) ? (error.code ?? "server_error") : "server_error", message });
    // A failed response is kept too (it can be retrieved), unless storing is what failed.
    if (errorCode(error) !== "response_not_stored") {
      try {
        await save(final);
      } catch {
        // Logged by save; the client already has its `response.failed`.
      }
    }
  }
  endEventStream(response);
  await remember(final, ref.ref, usage, ref);
}

export const handleGetResponse: RouteHandler = async (ctx, request, response) => {
  const id = storedId(request);
  const stored = await ctx.store.getResponse(id);
  if (!stored) throw notFound(id);
  sendJson(response, 200, stored.response);
};

export const handleDeleteResponse: RouteHandler = async (ctx, request, response) => {
  const id = storedId(request);
  if (!(await ctx.store.deleteResponse(id))) throw notFound(id);
  sendJson(response, 200, { id, object: "response", deleted: true });
};
