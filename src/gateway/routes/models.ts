import { allowedRefs, pickAgent, providersSetUp } from "../../agents/route-request.js";
import type { ModelRuntime } from "../../models/model-runtime.js";
import type { CatalogModel } from "../../providers/provider.js";
import { NotFoundError } from "../../shared/errors.js";
import type { StoredVerdict } from "../../store/attestation-verdicts.js";
import { type GatewayContext, header, type RouteHandler } from "../context.js";
import { sendJson } from "../http.js";
import { type Caller, checkAgentScope, keySees } from "../key-guard.js";

export interface ModelEntry {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
  [field: string]: unknown;
}

const STARTED = Math.floor(Date.now() / 1000);

/** Providers whose models a client can actually call: those with a credential, or that need none. */
function usable(runtime: ModelRuntime, provider: string): boolean {
  return runtime.credential(provider) !== undefined || !runtime.provider(provider).definition.requiresCredential;
}

/** One OpenAI model object; the catalog's facts are extra fields of ours. */
/**
 * For a TEE model: `declared` on the provider's word, `attested`/`refused` after its last hardware
 * attestation (`openclaw tee verify`), with when.
 */
function teeFields(model: CatalogModel, verdict: StoredVerdict | undefined) {
  if (!model.confidentialCompute) return {};
  if (!verdict) return { tee_status: "declared" };
  return { tee_status: verdict.ok ? "attested" : "refused", tee_verified_at: Math.floor(verdict.verifiedAt / 1000) };
}

function toEntry(
  id: string,
  provider: string,
  created: number,
  model: CatalogModel | undefined,
  verdicts: ReadonlyMap<string, StoredVerdict>,
): ModelEntry {
  return {
    id,
    object: "model",
    created,
    owned_by: provider,
    ...(model
      ? {
          name: model.name,
          ...(model.contextWindow ? { context_window: model.contextWindow } : {}),
          ...(model.maxTokens ? { max_output_tokens: model.maxTokens } : {}),
          ...(model.cost ? { pricing: { input_per_1m: model.cost.input ?? null, output_per_1m: model.cost.output ?? null } } : {}),
          tee: model.confidentialCompute === true,
          ...teeFields(model, verdicts.get(`${model.provider}/${model.id}`)),
          input_modalities: model.input,
        }
      : {}),
  };
}

/**
 * The flat OpenAI list of canonical `provider/model` ids, as the Gateway guide says: agents are
 * not listed as pseudo-models (they are picked with `x-openclaw-agent-id` or `openclaw:<id>`).
 * With the agent header, an agent limited by `allowedModels` lists exactly the models it may use
 * (its allowed models, primary and fallbacks), whether or not discovery found them.
 */
export async function listModels(ctx: GatewayContext, agentHeader: string | undefined): Promise<ModelEntry[]> {
  const { runtime } = ctx;
  // Nothing set up: nothing to list, and no discovery of providers nobody configured.
  if (providersSetUp(runtime).length === 0) return [];
  const loaded = await runtime.catalog();
  const created = (provider: string) => {
    const fetchedAt = loaded.providers.get(provider)?.fetchedAt;
    return fetchedAt ? Math.floor(fetchedAt / 1000) : STARTED;
  };
  const verdicts = await runtime.attestationVerdicts();
  const allowed = agentHeader ? allowedRefs(runtime, pickAgent(runtime, undefined, agentHeader).agent) : undefined;
  if (allowed) {
    const entries: ModelEntry[] = [];
    for (const text of allowed) {
      const ref = runtime.resolveRef(text);
      if (!usable(runtime, ref.provider)) continue;
      entries.push(toEntry(ref.ref, ref.provider, created(ref.provider), await runtime.findModel(ref), verdicts));
    }
    return entries;
  }
  const entries: ModelEntry[] = [];
  for (const catalog of loaded.providers.values()) {
    if (!usable(runtime, catalog.provider)) continue;
    for (const model of catalog.models)
      entries.push(toEntry(`${model.provider}/${model.id}`, model.provider, created(catalog.provider), model, verdicts));
  }
  return entries;
}

/** The list, narrowed to what the caller's key may use (a key never sees a model it cannot call). */
async function callerModels(ctx: GatewayContext, agentHeader: string | undefined, caller: Caller): Promise<ModelEntry[]> {
  if (caller?.agents && agentHeader) checkAgentScope(caller, agentHeader);
  const entries = await listModels(ctx, agentHeader);
  return caller?.models ? entries.filter((entry) => keySees(caller, entry.id)) : entries;
}

export const handleListModels: RouteHandler = async (ctx, request, response, _log, caller) => {
  sendJson(response, 200, { object: "list", data: await callerModels(ctx, header(request, "x-openclaw-agent-id"), caller) });
};

export const handleGetModel: RouteHandler = async (ctx, request, response, _log, caller) => {
  const raw = (request.url ?? "").split("?")[0]?.slice("/v1/models/".length) ?? "";
  let id: string;
  try {
    id = decodeURIComponent(raw);
  } catch {
    id = raw;
  }
  const entries = await callerModels(ctx, header(request, "x-openclaw-agent-id"), caller);
  let found = entries.find((entry) => entry.id === id);
  if (!found) {
    // An alias names a model too.
    try {
      const ref = ctx.runtime.resolveRef(id).ref;
      found = entries.find((entry) => entry.id === ref);
    } catch {
      // not an alias either
    }
  }
  if (!found)
    throw new NotFoundError(`The model \`${id}\` does not exist or you do not have access to it.`, {
      code: "model_not_found",
      param: "model",
    });
  sendJson(response, 200, found);
};
