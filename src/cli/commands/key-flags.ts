import { agentIds } from "../../agents/agent-config.js";
import type { ModelRuntime } from "../../models/model-runtime.js";
import { InvalidRequestError, NotFoundError } from "../../shared/errors.js";
import { BUDGET_PERIODS, type BudgetPeriod, type KeyPatch, type KeyRecord, type KeyScope } from "../../store/key-store.js";
import { parseDuration, parsePositiveInt, parseUsd } from "../parse-values.js";

/** Commander's view of the flags: `--no-x` gives `false` (clear it, `keys update` only). */
export interface KeyFlags {
  name?: string;
  models?: string[] | false;
  agents?: string[] | false;
  rpm?: string | false;
  tpm?: string | false;
  maxParallel?: string | false;
  budget?: string | false;
  budgetPeriod?: string;
  expires?: string | false;
  json?: boolean;
}

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
const splitList = (values: string[]) =>
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

function parsePeriod(text: string): BudgetPeriod {
  if ((BUDGET_PERIODS as readonly string[]).includes(text)) return text as BudgetPeriod;
  throw new InvalidRequestError(`--budget-period ${JSON.stringify(text)} must be one of ${BUDGET_PERIODS.join(", ")}`, {
    param: "budget-period",
  });
}

/** A budget without a period resets every 30 days: closest to a monthly bill. */
export const DEFAULT_BUDGET_PERIOD: BudgetPeriod = "30d";

/**
 * The flags as a patch: every value parsed and checked before anything is written. `current` is
 * the key being updated (absent for `create`), for `--budget-period` alone.
 */
export async function keyPatchFromFlags(
  flags: KeyFlags,
  loadRuntime: () => Promise<ModelRuntime>,
  now: number,
  current?: KeyRecord,
): Promise<KeyPatch> {
  const patch: KeyPatch = {};
  if (flags.name !== undefined) patch.name = parseKeyName(flags.name);
  const number = (value: string | false | undefined, flag: string) =>
    value === false ? null : value === undefined ? undefined : parsePositiveInt(value, flag);
  patch.rpm = number(flags.rpm, "--rpm");
  patch.tpm = number(flags.tpm, "--tpm");
  patch.maxParallel = number(flags.maxParallel, "--max-parallel");
  if (flags.expires === false) patch.expiresAt = null;
  else if (flags.expires !== undefined) patch.expiresAt = now + parseDuration(flags.expires, "--expires");
  const period = flags.budgetPeriod === undefined ? undefined : parsePeriod(flags.budgetPeriod);
  if (flags.budget === false) {
    if (period) throw new InvalidRequestError("--budget-period goes with a budget, not with --no-budget", { param: "budget-period" });
    patch.budget = null;
  } else if (flags.budget !== undefined) {
    patch.budget = { usd: parseUsd(flags.budget, "--budget"), period: period ?? current?.budget?.period ?? DEFAULT_BUDGET_PERIOD };
  } else if (period) {
    if (!current?.budget) throw new InvalidRequestError("--budget-period needs --budget <USD>", { param: "budget-period" });
    patch.budget = { usd: current.budget.usd, period };
  }
  if (flags.models === false) patch.models = null;
  if (flags.agents === false) patch.agents = null;
  if (Array.isArray(flags.models) || Array.isArray(flags.agents)) {
    const runtime = await loadRuntime();
    if (Array.isArray(flags.models)) patch.models = await resolveKeyModels(runtime, flags.models);
    if (Array.isArray(flags.agents)) patch.agents = resolveKeyAgents(runtime, flags.agents);
  }
  if (patch.models?.length === 0) throw new InvalidRequestError("--models needs at least one model (or --no-models for any)");
  if (patch.agents?.length === 0) throw new InvalidRequestError("--agents needs at least one agent (or --no-agents for any)");
  return patch;
}

/** A patch for a new key: only the values that are set. */
export function scopeOf(patch: KeyPatch): KeyScope {
  const scope: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(patch)) if (field !== "name" && value !== null && value !== undefined) scope[field] = value;
  return scope as KeyScope;
}
