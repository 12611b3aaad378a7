import { cancel, confirm, intro, isCancel, note, password, select, spinner } from "@clack/prompts";
import { loadConfig } from "../../config/load.js";
import { writeDiscoveryCache } from "../../models/discovery-cache.js";
import type { CatalogModel, OnboardingOffer } from "../../providers/provider.js";
import { createProvider } from "../../providers/registry.js";
import { formatTokens } from "../format.js";
import { type AuthChoice, authChoices, cancelled, checkSecret, finish, type OnboardOptions, RISK, runOAuth } from "./onboard.js";
import { resolveOffers } from "./onboard-offers.js";

function unwrap<T>(value: T): Exclude<T, symbol> {
  if (isCancel(value)) {
    cancel("Onboarding cancelled; nothing was written.");
    throw cancelled();
  }
  return value as Exclude<T, symbol>;
}

/** A provider's offer as a yes/no question, its note first (what saying yes means). */
export async function askOffer(offer: OnboardingOffer, model: CatalogModel): Promise<boolean> {
  if (offer.note) note(offer.note, `${model.name} runs in a TEE`);
  return unwrap(await confirm({ message: offer.question, initialValue: offer.initial }));
}

/** The guided setup: choose a provider, paste the secret (masked), pick the default model from its live list, answer its offers. */
export async function runInteractiveOnboarding(given: AuthChoice | undefined, options: OnboardOptions): Promise<void> {
  intro("OpenClaw setup");
  const choices = authChoices();
  const chosen =
    given ??
    unwrap(
      await select<AuthChoice>({
        message: "How do you want to connect?",
        options: choices.map((entry) => ({
          value: entry,
          label: entry.choice.label,
          ...(entry.choice.hint ? { hint: entry.choice.hint } : {}),
        })),
        // An API key is the quickest way in: the first provider's, when it has one.
        initialValue: choices.find((entry) => entry.choice.kind === "api-key"),
      }),
    );
  if (!options.acceptRisk) {
    note(RISK, "Before you continue");
    if (!unwrap(await confirm({ message: "Continue?", initialValue: true }))) throw cancelled();
  }
  const { provider, choice } = chosen;
  if (choice.kind === "oauth") return runOAuth(provider, options, true);
  const flag = choice.option ? options[choice.option] : undefined;
  const secret = checkSecret(
    typeof flag === "string" ? flag : unwrap(await password({ message: choice.prompt ?? "API key", mask: "*" })),
    "the key",
  );

  let model = options.model;
  let known: CatalogModel[] | undefined;
  if (!model) {
    const { config, paths } = await loadConfig();
    const providerConfig = config.models?.providers?.[provider] ?? {};
    const instance = createProvider(provider, providerConfig);
    const onboarding = instance.definition.onboarding;
    const progress = spinner();
    progress.start("Loading the model list");
    const discovered = await instance.discoverModels({ apiKey: secret });
    progress.stop(
      discovered.source === "live" ? `${discovered.models.length} models available` : `Using the built-in list (${discovered.error})`,
    );
    if (discovered.source === "live") {
      await writeDiscoveryCache(paths, {
        version: 1,
        provider,
        baseUrl: instance.baseUrl,
        fetchedAt: Date.now(),
        models: discovered.models,
      }).catch(() => undefined);
    }
    known = discovered.models;
    const models = onboarding?.offeredModels?.(discovered.models, providerConfig) ?? discovered.models;
    const fallbackDefault = instance.definition.defaultModel ?? `${provider}/${models[0]?.id}`;
    const entries = models.flatMap((entry) => {
      const ref = `${provider}/${entry.id}`;
      const hint = [formatTokens(entry.contextWindow), entry.confidentialCompute ? "TEE" : ""].filter(Boolean).join(" · ");
      return [{ value: ref, label: `${entry.name}  (${ref})`, hint }, ...(onboarding?.modelVariants?.(ref, entry) ?? [])];
    });
    model = unwrap(
      await select<string>({
        message: "Default model",
        options: entries.length ? entries : [{ value: fallbackDefault, label: fallbackDefault }],
        initialValue: entries.some((entry) => entry.value === fallbackDefault) ? fallbackDefault : entries[0]?.value,
        maxItems: 12,
      }),
    );
  }
  const settings = await resolveOffers({ provider, model, flags: options, secret, ...(known ? { known } : {}), ask: askOffer });
  await finish(provider, secret, model, settings);
}
