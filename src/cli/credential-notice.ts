import { openCredentialStore } from "../auth/credential-store.js";
import { resolveProviderCredential } from "../auth/resolve-credential.js";
import { loadConfig } from "../config/load.js";
import type { StatePaths } from "../config/paths.js";
import { providerDefinition } from "../providers/registry.js";
import { warn } from "./context.js";

/**
 * After storing a credential: if requests will still use another one (the user's `auth.order`,
 * or an `apiKey` in the config), say which and how to change it, instead of failing silently.
 */
export async function noteIfShadowed(paths: StatePaths, provider: string, profileId: string): Promise<void> {
  let config: Awaited<ReturnType<typeof loadConfig>>["config"];
  try {
    ({ config } = await loadConfig({ paths }));
  } catch {
    return; // `config validate` explains a config that does not load; the credential is stored either way.
  }
  const envVars = providerDefinition(provider).credentialEnv;
  const used = resolveProviderCredential({
    providerId: provider,
    config,
    store: await (await openCredentialStore(paths, config)).read(),
    ...(envVars ? { envVars: [...envVars] } : {}),
  });
  if (!used || used.profileId === profileId) return;
  const how =
    used.source === "config"
      ? `remove it with \`openclaw config unset ${used.origin}\``
      : `auth.order.${provider} puts it first; change it with \`openclaw config set auth.order.${provider} --json '["${profileId}"]'\``;
  warn(`${provider} requests still use ${used.origin} (${used.redacted}), not ${profileId}: ${how}`);
}
