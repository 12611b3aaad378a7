import { CredentialStore, credentialSecret } from "../../auth/credential-store.js";
import { getAtPath, setAtPath, unsetAtPath } from "../../config/config-path.js";
import { readRawConfig, validateRawConfig } from "../../config/load.js";
import { resolveStatePaths } from "../../config/paths.js";
import { updateConfigFile } from "../../config/write.js";
import { InvalidRequestError, NotFoundError } from "../../shared/errors.js";
import { redactSecret } from "../../shared/redact.js";
import { printJson } from "../output.js";
import { readSecret } from "../read-secret.js";

export function resolveProfileId(provider: string, profileId: string | undefined): string {
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(provider)) {
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
  await CredentialStore.fromPaths(paths).setProfile(profileId, { type: "api_key", provider, key: secret });
  await updateConfigFile(paths.configPath, (raw) => {
    const keys = ["auth", "profiles", profileId];
    const existing = getAtPath(raw, keys).value as { mode?: string } | undefined;
    setAtPath(raw, keys, { ...existing, provider, mode: existing?.mode === "token" ? "token" : "api_key" });
  });
  process.stdout.write(`Saved ${profileId} (${redactSecret(secret)}) to ${paths.authProfilesPath}\n`);
}

export async function runAuthList(options: { json?: boolean }): Promise<void> {
  const paths = resolveStatePaths();
  const rows = (await CredentialStore.fromPaths(paths).listProfiles()).map(([id, credential]) => ({
    id,
    provider: credential.provider,
    type: credential.type,
    secret: redactSecret(credentialSecret(credential)),
    ...(credential.type !== "api_key" && credential.expires ? { expires: new Date(credential.expires).toISOString() } : {}),
  }));
  if (options.json) return printJson({ path: paths.authProfilesPath, profiles: rows });
  if (rows.length === 0) {
    process.stdout.write("No stored credentials. Add one with: openclaw models auth paste-token --provider <id>\n");
    return;
  }
  for (const row of rows) process.stdout.write(`${row.id}  ${row.type}  ${row.secret}${row.expires ? `  expires ${row.expires}` : ""}\n`);
}

export async function runAuthRemove(profileId: string): Promise<void> {
  const paths = resolveStatePaths();
  const removed = await CredentialStore.fromPaths(paths).removeProfile(profileId);
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
