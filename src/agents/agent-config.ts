import type { OpenClawConfig } from "../config/schema.js";
import { modelSelection } from "../models/model-runtime.js";

export const DEFAULT_AGENT_ID = "main";

/** An agent as a request sees it: its list entry over `agents.defaults`. */
export interface ResolvedAgent {
  id: string;
  primary?: string;
  fallbacks: string[];
  systemPrompt?: string;
  /** Model refs or aliases the agent may use; undefined means any. */
  allowedModels?: string[];
  memorySearch?: { enabled?: boolean; provider?: string; model?: string };
}

export function defaultAgentId(config: OpenClawConfig): string {
  return config.agents?.list?.find((agent) => agent.default)?.id ?? DEFAULT_AGENT_ID;
}

/** Every agent id a client can name: the list, plus the implicit default agent. */
export function agentIds(config: OpenClawConfig): string[] {
  return [...new Set([defaultAgentId(config), ...(config.agents?.list ?? []).map((agent) => agent.id)])];
}

/** The agent with this id, or undefined; the default agent exists even when not listed. */
export function resolveAgent(config: OpenClawConfig, id: string): ResolvedAgent | undefined {
  const defaults = config.agents?.defaults;
  const entry = config.agents?.list?.find((agent) => agent.id === id);
  if (!entry && id !== defaultAgentId(config)) return undefined;
  const selection = modelSelection(entry?.model ?? defaults?.model);
  const systemPrompt = entry?.systemPrompt ?? defaults?.systemPrompt;
  const memorySearch = entry?.memorySearch ?? defaults?.memorySearch;
  return {
    id,
    ...(selection.primary ? { primary: selection.primary } : {}),
    fallbacks: selection.fallbacks,
    ...(systemPrompt ? { systemPrompt } : {}),
    ...(entry?.allowedModels?.length ? { allowedModels: entry.allowedModels } : {}),
    ...(memorySearch ? { memorySearch } : {}),
  };
}

/**
 * `openclaw:<id>`, `openclaw/<id>`, `agent:<id>` name an agent in the `model` field; a bare
 * `openclaw` means "the agent" (the header's, else the default): it returns "".
 */
export function agentIdFromModel(model: string): string | undefined {
  if (model === "openclaw") return "";
  const match = /^(?:openclaw[:/]|agent:)([A-Za-z0-9][A-Za-z0-9_-]*)$/.exec(model);
  return match?.[1];
}
