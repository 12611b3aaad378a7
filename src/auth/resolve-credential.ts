import type { OpenClawConfig } from "../config/schema.js";
import { redactSecret } from "../shared/redact.js";
import { type Credential, type CredentialStoreData, credentialSecret } from "./credential-store.js";

export type CredentialSource = "config" | "profile" | "env";

export interface ResolvedCredential {
  secret: string;
  source: CredentialSource;
  /** Where exactly: `models.providers.chutes.apiKey`, `chutes:manual`, `CHUTES_API_KEY`. */
  origin: string;
  mode: "api_key" | "token" | "oauth";
  profileId?: string;
  credential?: Credential;
  redacted: string;
}

/** The environment variable a provider reads when its definition names none (`credentialEnv`): `<PROVIDER>_API_KEY`. */
export function providerEnvVars(providerId: string): string[] {
  return [`${providerId.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_API_KEY`];
}

/**
 * Profiles for a provider in the order they are tried: the user's `auth.order` first (OpenClaw
 * never writes it), then the most recently stored credential first, so a key replaced with
 * `paste-token` or onboarding takes effect. Profiles stored before `storedAt` existed come after,
 * in config then store order.
 */
export function orderedProfileIds(providerId: string, config: OpenClawConfig, store: CredentialStoreData): string[] {
  const explicit = config.auth?.order?.[providerId] ?? [];
  const rest: string[] = [];
  const add = (id: string) => {
    if (!explicit.includes(id) && !rest.includes(id)) rest.push(id);
  };
  for (const [id, meta] of Object.entries(config.auth?.profiles ?? {})) if (meta.provider === providerId) add(id);
  for (const [id, credential] of Object.entries(store.profiles)) if (credential.provider === providerId) add(id);
  const storedAt = (id: string) => store.profiles[id]?.storedAt ?? 0;
  rest.sort((a, b) => storedAt(b) - storedAt(a));
  return [...new Set(explicit), ...rest];
}

export interface ResolveCredentialOptions {
  providerId: string;
  /** Loaded config: `${VAR}` references already substituted. */
  config: OpenClawConfig;
  store: CredentialStoreData;
  env?: NodeJS.ProcessEnv;
  envVars?: string[];
}

/**
 * One answer to "which secret does this provider use, and where did it come from":
 * explicit `apiKey` in config → the provider's auth profiles → the environment.
 */
export function resolveProviderCredential(options: ResolveCredentialOptions): ResolvedCredential | undefined {
  const { providerId, config, store } = options;
  const env = options.env ?? process.env;
  const apiKey = config.models?.providers?.[providerId]?.apiKey?.trim();
  if (apiKey) {
    return {
      secret: apiKey,
      source: "config",
      origin: `models.providers.${providerId}.apiKey`,
      mode: "api_key",
      redacted: redactSecret(apiKey),
    };
  }
  for (const profileId of orderedProfileIds(providerId, config, store)) {
    const credential = store.profiles[profileId];
    if (!credential || credential.provider !== providerId) continue;
    if (credential.type === "oauth" && credential.needsReauth) continue;
    const secret = credentialSecret(credential);
    return { secret, source: "profile", origin: profileId, mode: credential.type, profileId, credential, redacted: redactSecret(secret) };
  }
  for (const name of options.envVars ?? providerEnvVars(providerId)) {
    const secret = env[name]?.trim();
    if (secret) {
      const mode = name.endsWith("_OAUTH_TOKEN") ? "oauth" : "api_key";
      return { secret, source: "env", origin: name, mode, redacted: redactSecret(secret) };
    }
  }
  return undefined;
}
