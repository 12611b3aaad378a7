import { type Credential, credentialStoreAt } from "../auth/credential-store.js";
import { getAtPath, setAtPath } from "../config/config-path.js";
import { readRawConfig } from "../config/load.js";
import type { StatePaths } from "../config/paths.js";
import { validateRawConfig } from "../config/validate-config.js";
import { updateConfigFile } from "../config/write.js";
import { providerDefinition } from "../providers/registry.js";

export interface OnboardingPlan {
  provider: string;
  /** An API key (string) or a full credential (an OAuth token set). */
  secret: string | Credential;
  /** Defaults to `<provider>:default`. */
  profileId?: string;
  /** Defaults to the provider's default model. */
  defaultModel?: string;
  /** Settings the provider offered and the user answered (Chutes: `e2ee`), written into its entry. */
  providerSettings?: Record<string, boolean>;
}

export interface OnboardingResult {
  profileId: string;
  defaultModel: string;
}

/**
 * What onboarding writes, the same for every way in (prompted, flags, OAuth later): the
 * credential into the store, and into `openclaw.json` the provider entry, the profile
 * metadata, the built-in aliases (never replacing the user's) and the default model (keeping
 * any fallbacks). Running it twice changes nothing; unrelated config is left alone.
 */
export async function applyOnboarding(paths: StatePaths, plan: OnboardingPlan): Promise<OnboardingResult> {
  const definition = providerDefinition(plan.provider);
  const profileId = plan.profileId ?? `${plan.provider}:default`;
  const defaultModel = plan.defaultModel ?? definition.defaultModel;
  if (!defaultModel) throw new Error(`provider ${plan.provider} has no default model`);
  // Refuse before writing anything if the existing config cannot take our changes.
  validateRawConfig((await readRawConfig(paths.configPath)).raw, paths.configPath);
  const credential: Credential =
    typeof plan.secret === "string" ? { type: "api_key", provider: plan.provider, key: plan.secret } : plan.secret;
  await (await credentialStoreAt(paths)).setProfile(profileId, credential);
  await updateConfigFile(paths.configPath, (raw) => {
    const providerKeys = ["models", "providers", plan.provider];
    const existing = (getAtPath(raw, providerKeys).value ?? {}) as Record<string, unknown>;
    setAtPath(raw, providerKeys, {
      ...existing,
      ...(existing.baseUrl || !definition.defaultBaseUrl ? {} : { baseUrl: definition.defaultBaseUrl }),
      api: "openai-completions",
      ...plan.providerSettings,
    });
    setAtPath(raw, ["auth", "profiles", profileId], { provider: plan.provider, mode: credential.type });
    // No `auth.order` here: that is the user's. The credential just stored is the newest, and the
    // newest is used unless the user ordered otherwise (the CLI says so when they did).
    for (const [alias, target] of Object.entries(definition.builtinAliases ?? {})) {
      const keys = ["agents", "defaults", "models", alias];
      if (!getAtPath(raw, keys).found) setAtPath(raw, keys, { alias: target });
    }
    const model = getAtPath(raw, ["agents", "defaults", "model"]).value;
    const fallbacks = typeof model === "object" && model !== null ? (model as { fallbacks?: unknown }).fallbacks : undefined;
    setAtPath(raw, ["agents", "defaults", "model"], { primary: defaultModel, ...(fallbacks === undefined ? {} : { fallbacks }) });
  });
  return { profileId, defaultModel };
}
