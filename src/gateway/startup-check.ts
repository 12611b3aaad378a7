import { agentIds, resolveAgent } from "../agents/agent-config.js";
import type { ModelRuntime } from "../models/model-runtime.js";
import { ConfigError } from "../shared/errors.js";

/**
 * Refuse to start on a configuration that cannot serve, rather than half-start and answer
 * /healthz 200: every configured provider must be creatable (a base URL), and every model an
 * agent names (primary, fallbacks) must resolve to a known provider.
 */
export function assertServable(runtime: ModelRuntime): void {
  for (const id of Object.keys(runtime.config.models?.providers ?? {})) runtime.provider(id);
  for (const id of agentIds(runtime.config)) {
    const agent = resolveAgent(runtime.config, id);
    for (const model of [...(agent?.primary ? [agent.primary] : []), ...(agent?.fallbacks ?? [])]) {
      try {
        runtime.resolveRef(model);
      } catch (error) {
        throw new ConfigError(`agent ${id}: ${(error as Error).message}`, { code: "model_unknown" });
      }
    }
  }
}
