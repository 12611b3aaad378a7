import { agentIds } from "../../agents/agent-config.js";
import { allowedRefs, pickAgent } from "../../agents/route-request.js";
import type { ModelRuntime } from "../../models/model-runtime.js";
import { NotFoundError } from "../../shared/errors.js";
import { type GatewayContext, header, type RouteHandler } from "../context.js";
import { sendJson } from "../http.js";

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

/** The flat OpenAI list: canonical `provider/model` ids (extra fields are ours), then the agents. */
async function listModels(ctx: GatewayContext, agentHeader: string | undefined): Promise<ModelEntry[]> {
  const { runtime } = ctx;
  const loaded = await runtime.catalog();
  let entries: ModelEntry[] = [];
  for (const catalog of loaded.providers.values()) {
    if (!usable(runtime, catalog.provider)) continue;
    const created = catalog.fetchedAt ? Math.floor(catalog.fetchedAt / 1000) : STARTED;
    for (const model of catalog.models) {
      entries.push({
        id: `${model.provider}/${model.id}`,
        object: "model",
        created,
        owned_by: model.provider,
        name: model.name,
        ...(model.contextWindow ? { context_window: model.contextWindow } : {}),
        ...(model.maxTokens ? { max_output_tokens: model.maxTokens } : {}),
        ...(model.cost ? { pricing: { input_per_1m: model.cost.input ?? null, output_per_1m: model.cost.output ?? null } } : {}),
        tee: model.confidentialCompute === true,
        input_modalities: model.input,
      });
    }
  }
  if (agentHeader) {
    const { agent } = pickAgent(runtime, undefined, agentHeader);
    const allowed = allowedRefs(runtime, agent);
    if (allowed) entries = entries.filter((entry) => allowed.has(entry.id));
  }
  for (const id of agentIds(runtime.config))
    entries.push({ id: `openclaw/${id}`, object: "model", created: STARTED, owned_by: "openclaw", agent: true });
  return entries;
}

export const handleListModels: RouteHandler = async (ctx, request, response) => {
  sendJson(response, 200, { object: "list", data: await listModels(ctx, header(request, "x-openclaw-agent-id")) });
};

export const handleGetModel: RouteHandler = async (ctx, request, response) => {
  const raw = (request.url ?? "").split("?")[0]?.slice("/v1/models/".length) ?? "";
  let id: string;
  try {
    id = decodeURIComponent(raw);
  } catch {
    id = raw;
  }
  const entries = await listModels(ctx, header(request, "x-openclaw-agent-id"));
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
