import type { ModelRef } from "../models/model-ref.js";
import type { ModelRuntime } from "../models/model-runtime.js";
import { InvalidRequestError, NotFoundError, OpenClawError, PermissionError } from "../shared/errors.js";
import { agentIdFromModel, defaultAgentId, type ResolvedAgent, resolveAgent } from "./agent-config.js";

export interface RoutedRequest {
  agent: ResolvedAgent;
  /** Models to try in order: the requested one (or the agent's primary), then the agent's fallbacks. */
  chain: ModelRef[];
}

export interface RouteInput {
  model: string;
  /** `x-openclaw-agent-id`. */
  agentHeader?: string | undefined;
}

export function pickAgent(
  runtime: ModelRuntime,
  model: string | undefined,
  agentHeader: string | undefined,
): { agent: ResolvedAgent; byModel: boolean } {
  const fromModel = model ? agentIdFromModel(model) : undefined;
  const id = fromModel || agentHeader?.trim() || defaultAgentId(runtime.config);
  const agent = resolveAgent(runtime.config, id);
  if (!agent)
    throw new NotFoundError(`unknown agent ${JSON.stringify(id)}: add it to agents.list`, {
      code: "agent_not_found",
      param: fromModel ? "model" : null,
    });
  return { agent, byModel: fromModel !== undefined };
}

/** Providers a request could use now: those holding a credential, and configured ones that need none. */
export function providersSetUp(runtime: ModelRuntime): string[] {
  return [...runtime.providerIds].filter((id) => {
    if (runtime.credential(id) !== undefined) return true;
    if (runtime.config.models?.providers?.[id] === undefined) return false;
    try {
      return !runtime.provider(id).definition.requiresCredential;
    } catch {
      return false;
    }
  });
}

/** The refs an agent may use, or undefined when it may use any. */
export function allowedRefs(runtime: ModelRuntime, agent: ResolvedAgent): Set<string> | undefined {
  if (!agent.allowedModels) return undefined;
  const refs = new Set<string>();
  for (const entry of [...agent.allowedModels, ...(agent.primary ? [agent.primary] : []), ...agent.fallbacks])
    refs.add(runtime.resolveRef(entry).ref);
  return refs;
}

const routeCache = new WeakMap<ModelRuntime, { generation: number; routes: Map<string, RoutedRequest> }>();
const MAX_CACHED_ROUTES = 1024;

/**
 * Turn the `model` field (a ref, an alias, or an agent) and the agent header into an agent and
 * a model chain, refusing what the agent or the provider's policy does not allow. Answers are
 * remembered per runtime (config and catalog do not change under it), so the hot path is a lookup.
 */
export async function routeRequest(runtime: ModelRuntime, input: RouteInput): Promise<RoutedRequest> {
  let cache = routeCache.get(runtime);
  if (!cache || cache.generation !== runtime.generation) {
    cache = { generation: runtime.generation, routes: new Map() };
    routeCache.set(runtime, cache);
  }
  const key = `${input.model}\u0000${input.agentHeader ?? ""}`;
  const cached = cache.routes.get(key);
  if (cached) return cached;
  const routed = await resolveRoute(runtime, input);
  if (cache.routes.size >= MAX_CACHED_ROUTES) cache.routes.clear();
  cache.routes.set(key, routed);
  return routed;
}

async function resolveRoute(runtime: ModelRuntime, input: RouteInput): Promise<RoutedRequest> {
  if (!input.model.trim()) throw new InvalidRequestError("model must be a non-empty string", { param: "model", code: "invalid_model" });
  const { agent, byModel } = pickAgent(runtime, input.model, input.agentHeader);
  const explicit = byModel ? undefined : input.model;
  if (!explicit && !agent.primary && !runtime.defaultModel()) {
    // Nothing the client can fix: the gateway itself is not set up yet.
    if (providersSetUp(runtime).length === 0)
      throw new OpenClawError("the gateway has no provider credential yet: run `openclaw onboard` on the gateway's machine", {
        status: 503,
        type: "server_error",
        code: "gateway_not_configured",
        param: "model",
      });
    throw new InvalidRequestError(
      `agent ${agent.id} has no default model: pass model as provider/model, or set agents.defaults.model.primary (openclaw onboard sets one)`,
      { param: "model", code: "model_not_set" },
    );
  }
  const chain = runtime.modelChain(explicit ?? agent.primary, agent.fallbacks);
  const allowed = allowedRefs(runtime, agent);
  if (allowed && !allowed.has((chain[0] as ModelRef).ref)) {
    throw new PermissionError(`model ${input.model} is not allowed for agent ${agent.id} (agents.list[].allowedModels)`, {
      code: "model_not_allowed",
      param: "model",
    });
  }
  return { agent, chain: await runtime.filterAllowed(allowed ? chain.filter((ref) => allowed.has(ref.ref)) : chain) };
}
