import { cancel, confirm, intro, isCancel, note, password, select, spinner } from "@clack/prompts";
import { loadConfig } from "../../config/load.js";
import { writeDiscoveryCache } from "../../models/discovery-cache.js";
import { createProvider } from "../../providers/registry.js";
import { formatTokens } from "../format.js";
import { type AuthChoice, CHOICES, cancelled, checkSecret, finish, type OnboardOptions, RISK, runOAuth } from "./onboard.js";

function unwrap<T>(value: T): Exclude<T, symbol> {
  if (isCancel(value)) {
    cancel("Onboarding cancelled; nothing was written.");
    throw cancelled();
  }
  return value as Exclude<T, symbol>;
}

/** The guided setup: choose a provider, paste the secret (masked), pick the default model from its live list. */
export async function runInteractiveOnboarding(given: AuthChoice | undefined, options: OnboardOptions): Promise<void> {
  intro("OpenClaw setup");
  const choice =
    given ??
    unwrap(
      await select<AuthChoice>({
        message: "How do you want to connect?",
        options: (Object.entries(CHOICES) as Array<[AuthChoice, (typeof CHOICES)[AuthChoice]]>).map(([value, entry]) => ({
          value,
          label: entry.label,
          ...(value === "chutes" ? { hint: "opens your browser" } : {}),
        })),
        initialValue: "chutes-api-key",
      }),
    );
  if (!options.acceptRisk) {
    note(RISK, "Before you continue");
    if (!unwrap(await confirm({ message: "Continue?", initialValue: true }))) throw cancelled();
  }
  if (choice === "chutes") return runOAuth(options, true);
  const provider = CHOICES[choice].provider;
  const flag = choice === "huggingface-api-key" ? options.huggingfaceApiKey : options.chutesApiKey;
  const secret = checkSecret(
    flag ??
      unwrap(await password({ message: provider === "huggingface" ? "Hugging Face token (hf_…)" : "Chutes API key (cpk_…)", mask: "*" })),
    "the key",
  );

  let model = options.model;
  if (!model) {
    const { config, paths } = await loadConfig();
    const providerConfig = config.models?.providers?.[provider] ?? {};
    const instance = createProvider(provider, providerConfig);
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
    const models = providerConfig.teeOnly ? discovered.models.filter((entry) => entry.confidentialCompute) : discovered.models;
    const fallbackDefault = instance.definition.defaultModel ?? `${provider}/${models[0]?.id}`;
    const entries = models.flatMap((entry) => {
      const ref = `${provider}/${entry.id}`;
      const hint = [formatTokens(entry.contextWindow), entry.confidentialCompute ? "TEE" : ""].filter(Boolean).join(" · ");
      const base = { value: ref, label: `${entry.name}  (${ref})`, hint };
      // The router picks the backend by price or speed: offered as their own, provider-locked choices.
      if (provider !== "huggingface") return [base];
      return [
        base,
        { value: `${ref}:cheapest`, label: `${entry.name}, cheapest backend`, hint: "provider locked" },
        { value: `${ref}:fastest`, label: `${entry.name}, fastest backend`, hint: "provider locked" },
      ];
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
  await finish(provider, secret, model);
}
