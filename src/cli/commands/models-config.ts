import { resolveStatePaths } from "../../config/paths.js";
import { updateConfigFile } from "../../config/write.js";
import { parseModelRef } from "../../models/model-ref.js";
import { modelSelection } from "../../models/model-runtime.js";
import { BUILTIN_PROVIDERS } from "../../providers/registry.js";
import { InvalidRequestError, NotFoundError } from "../../shared/errors.js";
import { loadCliContext, warn } from "../context.js";
import { printJson } from "../output.js";

type Raw = Record<string, unknown>;
type JsonOption = { json?: boolean };

/** `raw.agents.defaults`, created on the way when `create` is set. */
function rawDefaults(raw: Raw, create: boolean): Raw | undefined {
  let agents = raw.agents as Raw | undefined;
  if (!agents) {
    if (!create) return undefined;
    agents = raw.agents = {};
  }
  let defaults = agents.defaults as Raw | undefined;
  if (!defaults) {
    if (!create) return undefined;
    defaults = agents.defaults = {};
  }
  return defaults;
}

/** `agents.defaults.model` as an object, upgrading the plain-string form in place. */
function rawSelection(raw: Raw): { primary?: string; fallbacks?: string[] } {
  const defaults = rawDefaults(raw, true) as Raw;
  const current = defaults.model;
  if (typeof current === "string") defaults.model = { primary: current };
  else if (!current || typeof current !== "object") defaults.model = {};
  return defaults.model as { primary?: string; fallbacks?: string[] };
}

/**
 * An alias or `provider/model` the runtime can route, or a clear error. A ref the (cached or
 * built-in) catalog does not list is allowed with a warning: the catalog may be stale, and
 * providers serve models they do not list.
 */
async function checkedRef(input: string, needsCredential = false): Promise<{ input: string; ref: string }> {
  const text = input.trim();
  if (!text) throw new InvalidRequestError("the model is empty: give provider/model or an alias", { param: "model" });
  const { runtime } = await loadCliContext();
  const ref = runtime.resolveRef(text);
  const catalog = (await runtime.catalog("offline", [ref.provider])).providers.get(ref.provider);
  if (catalog && catalog.models.length > 0 && !catalog.all.some((model) => model.id === ref.baseId)) {
    warn(`${ref.provider}/${ref.baseId} is not in the ${ref.provider} catalog (run \`openclaw models list --refresh\` to check)`);
  }
  if (needsCredential && !runtime.credential(ref.provider) && runtime.provider(ref.provider).definition.requiresCredential) {
    warn(
      `${ref.provider} has no credential yet: run \`openclaw models auth paste-token --provider ${ref.provider}\` or \`openclaw onboard\``,
    );
  }
  return { input: text, ref: ref.ref };
}

function done(options: JsonOption, json: unknown, text: string): void {
  if (options.json) printJson(json);
  else process.stdout.write(`${text}\n`);
}

/** `openclaw models set <ref|alias>`: the default model (agents.defaults.model.primary). */
export async function runModelsSet(model: string, options: JsonOption): Promise<void> {
  const { input, ref } = await checkedRef(model, true);
  const { configPath } = resolveStatePaths();
  await updateConfigFile(configPath, (raw) => {
    rawSelection(raw).primary = input;
  });
  done(options, { defaultModel: input, resolved: ref }, `Default model: ${input}${input !== ref ? ` → ${ref}` : ""}`);
}

/** `openclaw models aliases list`: built-in and configured aliases, and where each comes from. */
export async function runAliasesList(options: JsonOption): Promise<void> {
  const { runtime } = await loadCliContext();
  const builtin = new Map<string, string>();
  for (const definition of Object.values(BUILTIN_PROVIDERS)) {
    for (const [name, ref] of Object.entries(definition.builtinAliases ?? {})) builtin.set(name, ref);
  }
  const aliases = [...runtime.aliases.targets].map(([alias, ref]) => ({
    alias,
    ref,
    source: builtin.get(alias) === ref ? "built-in" : "config",
  }));
  if (options.json) return printJson({ aliases });
  if (aliases.length === 0) return void process.stdout.write("No aliases.\n");
  const width = Math.max(...aliases.map((entry) => entry.alias.length));
  for (const entry of aliases) {
    process.stdout.write(`${entry.alias.padEnd(width)}  → ${entry.ref}${entry.source === "built-in" ? "  (built-in)" : ""}\n`);
  }
}

/** The config entries that define `alias` (either shape of `agents.defaults.models`). */
function aliasEntries(models: Record<string, { alias?: string }>, alias: string, providerIds: ReadonlySet<string>): string[] {
  const lower = alias.toLowerCase();
  return Object.entries(models).flatMap(([key, entry]) => {
    const value = entry?.alias?.trim();
    if (!value) return [];
    const name = isRef(key, providerIds) ? value : key;
    return name.toLowerCase() === lower ? [key] : [];
  });
}

/** Whether a `agents.defaults.models` key is a ref (a malformed one is not: it is a name). */
function isRef(key: string, providerIds: ReadonlySet<string>): boolean {
  try {
    return parseModelRef(key, providerIds) !== undefined;
  } catch {
    return false;
  }
}

const ALIAS_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/** `openclaw models aliases add <alias> <ref>`: `agents.defaults.models[<ref>].alias = <alias>`. */
export async function runAliasesAdd(alias: string, model: string, options: JsonOption): Promise<void> {
  const name = alias.trim();
  if (!ALIAS_NAME.test(name) || name.includes("/")) {
    throw new InvalidRequestError(
      `alias ${JSON.stringify(alias)} is not a valid name: letters, digits, '.', '_', ':' and '-' (no '/': that would read as provider/model), at most 64`,
      {
        param: "alias",
      },
    );
  }
  const { runtime } = await loadCliContext();
  // The target must be a real ref, not another alias: aliases do not chain.
  const target = parseModelRef(model.trim(), runtime.providerIds);
  if (!target) {
    throw new NotFoundError(
      `${JSON.stringify(model)} is not a provider/model ref (aliases point at refs, e.g. chutes/zai-org/GLM-4.7-TEE)`,
      {
        code: "model_not_found",
        param: "model",
      },
    );
  }
  const { ref } = await checkedRef(target.ref);
  const previous = runtime.aliases.targets.get(name);
  const { configPath } = resolveStatePaths();
  await updateConfigFile(configPath, (raw) => {
    const defaults = rawDefaults(raw, true) as Raw;
    defaults.models ??= {};
    const models = defaults.models as Record<string, { alias?: string }>;
    for (const key of aliasEntries(models, name, runtime.providerIds)) {
      const entry = models[key] as { alias?: string };
      if (isRef(key, runtime.providerIds)) {
        delete entry.alias;
        if (Object.keys(entry).length === 0) delete models[key];
      } else delete models[key];
    }
    const existing = models[ref];
    // `<ref>: {alias}` (the guides' form) holds one alias per ref; a second alias for the same ref
    // is written the other way round (`<alias>: {alias: <ref>}`) so the first one is kept.
    if (!existing?.alias) models[ref] = { ...existing, alias: name };
    else models[name] = { alias: ref };
  });
  const replaced = previous && previous !== ref ? previous : undefined;
  done(options, { alias: name, ref, ...(replaced ? { replaced } : {}) }, `Alias ${name} → ${ref}${replaced ? ` (was ${replaced})` : ""}`);
}

/** `openclaw models aliases remove <alias>`. Built-in aliases can be redefined, not removed. */
export async function runAliasesRemove(alias: string, options: JsonOption): Promise<void> {
  const name = alias.trim();
  const { runtime } = await loadCliContext();
  const { configPath } = resolveStatePaths();
  let removed = 0;
  await updateConfigFile(configPath, (raw) => {
    const models = rawDefaults(raw, false)?.models as Record<string, { alias?: string }> | undefined;
    if (!models) return;
    for (const key of aliasEntries(models, name, runtime.providerIds)) {
      removed++;
      const entry = models[key] as { alias?: string };
      if (isRef(key, runtime.providerIds)) {
        delete entry.alias;
        if (Object.keys(entry).length === 0) delete models[key];
      } else delete models[key];
    }
  });
  if (removed === 0) {
    const builtin = Object.values(BUILTIN_PROVIDERS).some((definition) => definition.builtinAliases?.[name] !== undefined);
    throw new NotFoundError(
      builtin
        ? `${name} is a built-in alias: it cannot be removed, but \`openclaw models aliases add ${name} <ref>\` redefines it`
        : `no alias ${name} in the config (see \`openclaw models aliases list\`)`,
      { code: "alias_not_found", param: "alias" },
    );
  }
  const after = (await loadCliContext()).runtime.aliases.targets.get(name);
  done(
    options,
    { removed: name, ...(after ? { builtin: after } : {}) },
    `Removed alias ${name}${after ? ` (the built-in ${name} → ${after} applies again)` : ""}`,
  );
}

async function currentFallbacks(): Promise<string[]> {
  const { config } = await loadCliContext();
  return modelSelection(config.agents?.defaults?.model).fallbacks;
}

/** `openclaw models fallbacks list`. */
export async function runFallbacksList(options: JsonOption): Promise<void> {
  const fallbacks = await currentFallbacks();
  if (options.json) return printJson({ fallbacks });
  process.stdout.write(fallbacks.length ? `${fallbacks.map((ref, i) => `${i + 1}. ${ref}`).join("\n")}\n` : "No fallbacks.\n");
}

/** `openclaw models fallbacks add <ref>`: tried in order after the default model fails. */
export async function runFallbacksAdd(model: string, options: JsonOption): Promise<void> {
  const { input, ref } = await checkedRef(model);
  const { configPath } = resolveStatePaths();
  let added = false;
  const config = await updateConfigFile(configPath, (raw) => {
    const selection = rawSelection(raw);
    const fallbacks = selection.fallbacks ?? [];
    if (fallbacks.includes(input)) return;
    selection.fallbacks = [...fallbacks, input];
    added = true;
  });
  const fallbacks = modelSelection(config.agents?.defaults?.model).fallbacks;
  done(
    options,
    { fallbacks, added },
    added ? `Added fallback ${input}${input !== ref ? ` → ${ref}` : ""}` : `${input} is already a fallback`,
  );
}

/** `openclaw models fallbacks remove <ref>`. */
export async function runFallbacksRemove(model: string, options: JsonOption): Promise<void> {
  const target = model.trim();
  const { configPath } = resolveStatePaths();
  let removed = false;
  const config = await updateConfigFile(configPath, (raw) => {
    const defaults = rawDefaults(raw, false);
    const selection = defaults?.model;
    if (!selection || typeof selection !== "object") return;
    const fallbacks = (selection as { fallbacks?: string[] }).fallbacks ?? [];
    const next = fallbacks.filter((entry) => entry !== target);
    removed = next.length !== fallbacks.length;
    if (removed) (selection as { fallbacks?: string[] }).fallbacks = next;
  });
  if (!removed) {
    throw new NotFoundError(`${target} is not a fallback (see \`openclaw models fallbacks list\`)`, {
      code: "fallback_not_found",
      param: "model",
    });
  }
  done(options, { fallbacks: modelSelection(config.agents?.defaults?.model).fallbacks, removed: target }, `Removed fallback ${target}`);
}

/** `openclaw models fallbacks clear`. */
export async function runFallbacksClear(options: JsonOption): Promise<void> {
  const { configPath } = resolveStatePaths();
  await updateConfigFile(configPath, (raw) => {
    const selection = rawDefaults(raw, false)?.model;
    if (selection && typeof selection === "object") delete (selection as { fallbacks?: string[] }).fallbacks;
  });
  done(options, { fallbacks: [] }, "Fallbacks cleared.");
}
