import { credentialSecret, credentialStoreAt } from "../../auth/credential-store.js";
import { getAtPath, setAtPath, unsetAtPath } from "../../config/config-path.js";
import { readRawConfig } from "../../config/load.js";
import { resolveStatePaths } from "../../config/paths.js";
import { PROVIDER_ID } from "../../config/schema.js";
import { validateRawConfig } from "../../config/validate-config.js";
import { updateConfigFile } from "../../config/write.js";
import { InvalidRequestError, NotFoundError } from "../../shared/errors.js";
import { redactSecret } from "../../shared/redact.js";
import { noteIfShadowed } from "../credential-notice.js";
import { printJson } from "../output.js";
import { readSecret } from "../read-secret.js";

export function resolveProfileId(provider: string, profileId: string | undefined): string {
  if (!PROVIDER_ID.test(provider)) {
    throw new InvalidRequestError(`invalid provider id ${JSON.stringify(provider)}: use lower-case letters, digits, - and _`, {
      param: "provider",
    });
  }
  if (!profileId) return `${provider}:manual`;
  const id = profileId.includes(":") ? profileId : `${provider}:${profileId}`;
  if (!id.startsWith(`${provider}:`) || /\s/.test(id) || id.length === provider.length + 1) {
    throw new InvalidRequestError(`profile id ${JSON.stringify(profileId)} must look like ${provider}:<name>`, { param: "profile-id" });
  }
  return id;
}

export async function runPasteToken(options: { provider: string; profileId?: string }): Promise<void> {
  const provider = options.provider.trim().toLowerCase();
  const profileId = resolveProfileId(provider, options.profileId);
  const paths = resolveStatePaths();
  // Refuse before asking for the secret if the config could not take the profile entry.
  validateRawConfig((await readRawConfig(paths.configPath)).raw, paths.configPath);
  const secret = await readSecret(`Paste the ${provider} API key or token`);
  const store = await credentialStoreAt(paths);
  await store.setProfile(profileId, { type: "api_key", provider, key: secret });
  await updateConfigFile(paths.configPath, (raw) => {
    const keys = ["auth", "profiles", profileId];
    const existing = getAtPath(raw, keys).value as { mode?: string } | undefined;
    setAtPath(raw, keys, { ...existing, provider, mode: existing?.mode === "token" ? "token" : "api_key" });
  });
  process.stdout.write(`Saved ${profileId} (${redactSecret(secret)}) to ${store.location}\n`);
  await noteIfShadowed(paths, provider, profileId);
}

export async function runAuthList(options: { json?: boolean }): Promise<void> {
  const paths = resolveStatePaths();
  const store = await credentialStoreAt(paths);
  const rows = (await store.listProfiles()).map(([id, credential]) => ({
    id,
    provider: credential.provider,
    type: credential.type,
    secret: redactSecret(credentialSecret(credential)),
    ...(credential.type !== "api_key" && credential.expires ? { expires: new Date(credential.expires).toISOString() } : {}),
  }));
  if (options.json) return printJson({ path: store.location, profiles: rows });
  if (rows.length === 0) {
    process.stdout.write("No stored credentials. Add one with: openclaw models auth paste-token --provider <id>\n");
    return;
  }
  for (const row of rows) process.stdout.write(`${row.id}  ${row.type}  ${row.secret}${row.expires ? `  expires ${row.expires}` : ""}\n`);
}

export async function runAuthRemove(profileId: string): Promise<void> {
  const paths = resolveStatePaths();
  const removed = await (await credentialStoreAt(paths)).removeProfile(profileId);
  const keys = ["auth", "profiles", profileId];
  let hadMeta = getAtPath((await readRawConfig(paths.configPath)).raw, keys).found;
  if (hadMeta) {
    await updateConfigFile(paths.configPath, (raw) => {
      hadMeta = unsetAtPath(raw, keys);
    });
  }
  if (!removed && !hadMeta) throw new NotFoundError(`no credential profile ${profileId}`);
  process.stdout.write(`Removed ${profileId}\n`);
}

export async function runAuthLogout(options: { provider: string; profileId?: string }): Promise<void> {
  const paths = resolveStatePaths();
  const store = await credentialStoreAt(paths);
  const profiles = (await store.listProfiles()).filter(
    ([id, credential]) =>
      credential.provider === options.provider && credential.type === "oauth" && (!options.profileId || id === options.profileId),
  );
  if (profiles.length === 0) throw new NotFoundError(`no signed-in (OAuth) profile for ${options.provider}`);
  const { loadConfig } = await import("../../config/load.js");
  const { revokeToken } = await import("../../auth/oauth/idp-client.js");
  const { clientSettings } = await import("../../auth/oauth/refresh.js");
  const { providerDefinition } = await import("../../providers/registry.js");
  const oauth = providerDefinition(options.provider).oauth;
  if (!oauth) throw new NotFoundError(`${options.provider} has no sign-in to log out of`);
  const settings = oauth.settings((await loadConfig({ paths })).config, process.env);
  for (const [id, credential] of profiles) {
    if (credential.type !== "oauth") continue;
    // Best effort at the IdP; the local copy goes either way.
    const client = clientSettings(settings, credential);
    const revoked = await Promise.all([
      credential.refresh ? revokeToken(client, credential.refresh, "refresh_token", credential.clientId) : Promise.resolve(true),
      revokeToken(client, credential.access, "access_token", credential.clientId),
    ]);
    await store.removeProfile(id);
    const keys = ["auth", "profiles", id];
    if (getAtPath((await readRawConfig(paths.configPath)).raw, keys).found) {
      await updateConfigFile(paths.configPath, (raw) => {
        unsetAtPath(raw, keys);
        const order = getAtPath(raw, ["auth", "order", options.provider]).value;
        if (Array.isArray(order)) {
          const rest = order.filter((entry) => entry !== id);
          if (rest.length) setAtPath(raw, ["auth", "order", options.provider], rest);
          else unsetAtPath(raw, ["auth", "order", options.provider]);
        }
      });
    }
    process.stdout.write(
      `Signed out ${id}${revoked.every(Boolean) ? " (tokens revoked at Chutes)" : " (Chutes could not be reached to revoke the tokens; they expire on their own)"}\n`,
    );
  }
}
