import { NotFoundError } from "../../shared/errors.js";
import type { RouteHandler } from "../context.js";
import { abortOnClientClose, bodyBytesOf, readJsonBody, sendJson } from "../http.js";
import { applyGrantHeaders } from "../key-guard.js";
import {
  completeResponseTurn,
  type EventSink,
  type ResponseTurn,
  streamResponseTurn,
  validateResponsesRequest,
} from "../responses/run-response.js";
import { endEventStream, startEventStream, writeEvent } from "../sse.js";
import { formatTeeReceipt, TEE_RECEIPT_HEADER } from "../tee-receipt.js";
import { withLedgerEntry } from "./request-ledger.js";

function storedId(request: { url?: string | undefined }): string {
  const raw = (request.url ?? "").split("?")[0]?.slice("/v1/responses/".length) ?? "";
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

const notFound = (id: string, param: string | null = null) =>
  new NotFoundError(`Response with id '${id}' not found.`, { code: "response_not_found", param });

export const handleCreateResponse: RouteHandler = (ctx, request, response, log, caller) =>
  withLedgerEntry(
    ctx,
    log,
    "responses",
    async (entry) => {
      const turn: ResponseTurn = {
        body: validateResponsesRequest(await readJsonBody(request, ctx.maxBodyBytes)),
        request,
        signal: abortOnClientClose(response),
        log,
        entry,
        caller,
        bodyBytes: bodyBytesOf(request),
        onGrant: (grant) => applyGrantHeaders(response, grant),
        // An answer computed in an attested enclave says so, before its first byte.
        onReceipt: (served) => {
          if (!response.headersSent) response.setHeader(TEE_RECEIPT_HEADER, formatTeeReceipt(served));
        },
        previous: async (id) => {
          const previous = await ctx.store.getResponse(id);
          if (!previous) throw notFound(id, "previous_response_id");
          return previous;
        },
      };
      if (turn.body.stream !== true) {
        await completeResponseTurn(ctx, turn, (final) => sendJson(response, 200, final));
        return;
      }
      const sink: EventSink = {
        open: () => startEventStream(response),
        send: (payload) => writeEvent(response, JSON.stringify(payload), payload.type),
        close: () => endEventStream(response),
      };
      await streamResponseTurn(ctx, turn, sink);
    },
    caller?.id,
    request,
  );

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
