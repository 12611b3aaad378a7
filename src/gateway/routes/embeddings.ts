import type { ServerResponse } from "node:http";
import { agentIdFromModel } from "../../agents/agent-config.js";
import { pickAgent } from "../../agents/route-request.js";
import { costOf } from "../../agents/session.js";
import type { ModelRef } from "../../models/model-ref.js";
import type { ModelRuntime } from "../../models/model-runtime.js";
import { AuthenticationError, InvalidRequestError } from "../../shared/errors.js";
import { decodeFloat32Base64, encodeFloat32Base64 } from "../../shared/float32-base64.js";
import type { EmbeddingsRequest } from "../../shared/wire.js";
import { type GatewayContext, header, type RouteHandler } from "../context.js";
import { abortOnClientClose, bodyBytesOf, expectObject, readJsonBody, sendJson } from "../http.js";
import { admitKey, applyGrantHeaders, checkAgentScope, scopeChain } from "../key-guard.js";
import type { RequestObservation } from "../observability/request-observation.js";
import { withLedgerEntry } from "./request-ledger.js";

const isTokens = (value: unknown): value is number[] =>
  Array.isArray(value) && value.length > 0 && value.every((item) => Number.isInteger(item));

function validate(body: unknown): EmbeddingsRequest & { model?: string } {
  const request = expectObject<EmbeddingsRequest & { model?: string }>(body);
  const { input } = request;
  const valid =
    (typeof input === "string" && input.length > 0) ||
    (Array.isArray(input) &&
      input.length > 0 &&
      (input.every((item) => typeof item === "string") || isTokens(input) || input.every(isTokens)));
  if (!valid) throw new InvalidRequestError("input must be a non-empty string, a list of strings, or token arrays", { param: "input" });
  if (request.encoding_format !== undefined && request.encoding_format !== "float" && request.encoding_format !== "base64") {
    throw new InvalidRequestError("encoding_format must be float or base64", { param: "encoding_format" });
  }
  if (request.dimensions !== undefined && !(Number.isInteger(request.dimensions) && request.dimensions > 0)) {
    throw new InvalidRequestError("dimensions must be a positive whole number", { param: "dimensions" });
  }
  if (request.model !== undefined && typeof request.model !== "string")
    throw new InvalidRequestError("model must be a string", { param: "model" });
  return request;
}

/** A `provider/model` ref or alias; without one (or naming an agent), the agent's memorySearch model. */
function embeddingModel(runtime: ModelRuntime, model: string | undefined, agentHeader: string | undefined): ModelRef {
  if (model && agentIdFromModel(model) === undefined) return runtime.resolveRef(model);
  const { agent } = pickAgent(runtime, model, agentHeader);
  const search = agent.memorySearch;
  if (!search?.model) {
    throw new InvalidRequestError(
      `no embedding model: pass model as provider/model, or set agents.defaults.memorySearch (agent ${agent.id})`,
      {
        param: "model",
        code: "model_not_set",
      },
    );
  }
  return runtime.resolveRef(
    search.provider && !search.model.startsWith(`${search.provider}/`) ? `${search.provider}/${search.model}` : search.model,
  );
}

export const handleEmbeddings: RouteHandler = (ctx, request, response, log, caller) =>
  withLedgerEntry(
    ctx,
    log,
    "embeddings",
    async (entry) => {
      const body = validate(await readJsonBody(request, ctx.maxBodyBytes));
      const agentHeader = header(request, "x-openclaw-agent-id");
      // An agent is only involved when the client names one or leaves the model to it (memorySearch).
      if (caller?.agents && (agentHeader || !body.model || agentIdFromModel(body.model) !== undefined))
        checkAgentScope(caller, pickAgent(ctx.runtime, body.model, agentHeader).agent.id);
      const ref = embeddingModel(ctx.runtime, body.model, agentHeader);
      scopeChain(caller, [ref]);
      log.model = ref.ref;
      entry.use(ref);
      entry.grant = await admitKey(ctx.keys, caller, { bodyBytes: bodyBytesOf(request), maxOutputTokens: undefined });
      applyGrantHeaders(response, entry.grant);
      const usage = await embed(ctx, ref, body, response, entry.observation);
      entry.record("ok", usage, costOf(usage, (await ctx.runtime.findModel(ref))?.cost));
    },
    caller?.id,
    request,
  );

async function embed(
  ctx: GatewayContext,
  ref: ModelRef,
  body: EmbeddingsRequest,
  response: ServerResponse,
  observation: RequestObservation,
): Promise<{ prompt_tokens: number; total_tokens: number }> {
  const credential = await ctx.runtime.freshCredential(ref.provider);
  const provider = ctx.runtime.provider(ref.provider);
  if (!credential && provider.definition.requiresCredential) {
    throw new AuthenticationError(`no credential for ${ref.provider}: run \`openclaw onboard\``, {
      code: "credential_missing",
      status: 503,
    });
  }
  const signal = abortOnClientClose(response);
  const wantsBase64 = body.encoding_format === "base64";
  // Ask for floats and encode ourselves: upstreams that ignore base64 would break the SDK's default.
  const ended = observation.attempt({ ref, operation: "embeddings", stream: false });
  let result: Awaited<ReturnType<typeof provider.embed>>;
  try {
    result = await provider.embed({ ...body, model: ref.modelId, encoding_format: "float" }, { apiKey: credential?.secret, signal });
  } catch (error) {
    ended({ error });
    throw error;
  }
  ended({ result });
  const data = (result.data ?? []).map((item, index) => {
    const vector = typeof item.embedding === "string" ? decodeFloat32Base64(item.embedding) : item.embedding;
    return { object: "embedding" as const, index: item.index ?? index, embedding: wantsBase64 ? encodeFloat32Base64(vector) : vector };
  });
  const usage = result.usage ?? { prompt_tokens: 0, total_tokens: 0 };
  sendJson(response, 200, { object: "list", data, model: ref.ref, usage });
  return usage;
}
