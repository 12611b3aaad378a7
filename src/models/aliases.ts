import type { OpenClawConfig } from "../config/schema.js";
import { BUILTIN_PROVIDERS } from "../providers/registry.js";
import { parseModelRef } from "./model-ref.js";

export interface AliasIndex {
  /** Alias name → model ref. */
  targets: Map<string, string>;
  /** Model ref → its alias names (for display). */
  names: Map<string, string[]>;
}

/**
 * `agents.defaults.models` is written two ways in the guides, and both work:
 *   `"chutes/zai-org/GLM-4.7-TEE": { alias: "Chutes GLM 4.7" }`  (key = ref, alias = short name)
 *   `"chutes-fast": { alias: "chutes/zai-org/GLM-4.7-Flash" }`   (key = short name, alias = ref)
 * Built-in aliases (chutes-fast, chutes-pro, chutes-vision) apply unless the config redefines them.
 */
export function buildAliasIndex(
  config: OpenClawConfig,
  providerIds: ReadonlySet<string>,
  extra: Record<string, { alias?: string }> = {},
): AliasIndex {
  const targets = new Map<string, string>();
  for (const definition of Object.values(BUILTIN_PROVIDERS)) {
    for (const [name, ref] of Object.entries(definition.builtinAliases ?? {})) targets.set(name, ref);
  }
  const entries = { ...config.agents?.defaults?.models, ...extra };
  for (const [key, entry] of Object.entries(entries)) {
    const alias = entry.alias?.trim();
    if (!alias) continue;
    const keyRef = parseModelRef(key, providerIds);
    if (keyRef) targets.set(alias, keyRef.ref);
    else {
      const aliasRef = parseModelRef(alias, providerIds);
      if (aliasRef) targets.set(key, aliasRef.ref);
    }
  }
  const names = new Map<string, string[]>();
  for (const [name, ref] of targets) names.set(ref, [...(names.get(ref) ?? []), name]);
  return { targets, names };
}

export function lookupAlias(index: AliasIndex, name: string): string | undefined {
  const exact = index.targets.get(name.trim());
  if (exact) return exact;
  const lower = name.trim().toLowerCase();
  for (const [alias, ref] of index.targets) if (alias.toLowerCase() === lower) return ref;
  return undefined;
}
