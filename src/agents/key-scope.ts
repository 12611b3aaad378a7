import type { ModelRuntime } from "../models/model-runtime.js";
import { InvalidRequestError, NotFoundError } from "../shared/errors.js";
import { agentIds } from "./agent-config.js";

/**
 * A key's scope as given by a person (CLI flags or the operator's HTTP route), checked against
 * the gateway's config and catalog before it is stored.
 */
const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$/;

export function parseKeyName(name: string): string {
  if (!NAME.test(name))
    throw new InvalidRequestError(
      `key name ${JSON.stringify(name)} must be 1-64 letters, digits, spaces, '.', '_', '@' or '-', starting with a letter or digit`,
      { param: "name" },
    );
  return name;
}

/** `--models a b` and `--models a,b` both work. */
export const splitList = (values: string[]) =>
  [...new Set(values.flatMap((value) => value.split(",")).map((value) => value.trim()))].filter(Boolean);

/**
 * Each entry resolved as the gateway would (an alias or `provider/model`), to its canonical ref,
 * and found in the provider's catalog (discovered and cached like `models list`, plus configured
 * models): a typo must not make a key that can use nothing.
 */
export async function resolveKeyModels(runtime: ModelRuntime, values: string[]): Promise<string[]> {
  const refs: string[] = [];
  for (const value of splitList(values)) {
    const ref = runtime.resolveRef(value);
    const catalog = (await runtime.catalog("auto", [ref.provider])).providers.get(ref.provider);
    if (!catalog?.all.some((model) => model.id === ref.baseId)) {
      const why = catalog?.source === "builtin" ? ` (its catalog could not be discovered: ${catalog.error ?? "offline"})` : "";
      throw new NotFoundError(
        `unknown model ${JSON.stringify(value)}: the ${ref.provider} catalog has no ${ref.baseId}${why}; see openclaw models list`,
        { code: "model_not_found", param: "models" },
      );
    }
    if (!refs.includes(ref.ref)) refs.push(ref.ref);
  }
  return refs;
}

export function resolveKeyAgents(runtime: ModelRuntime, values: string[]): string[] {
  const known = agentIds(runtime.config);
  const agents = splitList(values);
  const unknown = agents.find((agent) => !known.includes(agent));
  if (unknown !== undefined)
    throw new NotFoundError(`unknown agent ${JSON.stringify(unknown)}: agents are ${known.join(", ")}`, { param: "agents" });
  return agents;
}
