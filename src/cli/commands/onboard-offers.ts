import { loadConfig } from "../../config/load.js";
import type { CatalogModel, OnboardingOffer, ProviderDefinition } from "../../providers/provider.js";
import { createProvider, providerDefinition } from "../../providers/registry.js";
import { InvalidRequestError } from "../../shared/errors.js";

/** The default model onboarding writes (a ref or one of the provider's built-in aliases) → the provider's model id, if it is one of its. */
export function providerModelId(definition: ProviderDefinition, model: string): string | undefined {
  const target = definition.builtinAliases?.[model] ?? model;
  const prefix = `${definition.id}/`;
  if (!target.startsWith(prefix)) return undefined;
  const id = target.slice(prefix.length);
  return definition.splitModelSuffix?.(id).baseId ?? id;
}

export interface OfferInput {
  provider: string;
  /** The default model being written. */
  model: string;
  /** Flags by option name (`e2ee`: true for `--e2ee`, false for `--no-e2ee`). */
  flags: Record<string, unknown>;
  /** The list interactive onboarding already loaded. */
  known?: readonly CatalogModel[];
  /** The new credential, to ask the provider's live list about a model the built-in catalog lacks. */
  secret?: string;
  /** Interactive: ask the question (only for an offer that applies and no flag answered). */
  ask?: (offer: OnboardingOffer, model: CatalogModel) => Promise<boolean>;
}

/**
 * The provider's offers (Chutes: E2EE when the default is a TEE model) answered by flag or by
 * question → the settings to write under `models.providers.<id>`. A flag asking for what does not
 * apply is refused before anything is written; an offer that does not apply is not asked.
 */
export async function resolveOffers(input: OfferInput): Promise<Record<string, boolean>> {
  const definition = providerDefinition(input.provider);
  const offers = definition.onboarding?.offers ?? [];
  const settings: Record<string, boolean> = {};
  if (!offers.some((offer) => input.flags[offer.option] !== undefined || input.ask)) return settings;
  const modelId = providerModelId(definition, input.model) ?? input.model;
  let model = (input.known ?? definition.builtinModels).find((entry) => entry.id === modelId);
  if (!model && !input.known && input.secret && providerModelId(definition, input.model)) model = await discover(input, modelId);
  for (const offer of offers) {
    const given = input.flags[offer.option];
    const unavailable = offer.unavailable(model, modelId);
    if (given === true && unavailable) {
      throw new InvalidRequestError(`--${offer.flag}: ${unavailable}; nothing was written`, { param: offer.flag });
    }
    if (typeof given === "boolean") settings[offer.key] = given;
    else if (input.ask && model && !unavailable) settings[offer.key] = await input.ask(offer, model);
  }
  return settings;
}

/** The provider's live list, through the user's config (its baseUrl); undefined when it cannot say. */
async function discover(input: OfferInput, modelId: string): Promise<CatalogModel | undefined> {
  const { config } = await loadConfig();
  const provider = createProvider(input.provider, config.models?.providers?.[input.provider] ?? {});
  const discovered = await provider.discoverModels({ apiKey: input.secret });
  return discovered.source === "live" ? discovered.models.find((entry) => entry.id === modelId) : undefined;
}

/** One line per setting written, for the closing summary. */
export function describeSettings(provider: string, settings: Record<string, boolean>): string {
  return Object.entries(settings)
    .map(([key, value]) => `models.providers.${provider}.${key} = ${value}\n`)
    .join("");
}
