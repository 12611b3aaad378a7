import assert from "node:assert/strict";
import type { CredentialStoreData } from "../src/auth/credential-store.js";
import { providerEnvVars, resolveProviderCredential as resolveWith } from "../src/auth/resolve-credential.js";
import { providerDefinition } from "../src/providers/registry.js";

/** As the model runtime calls it: the environment names come from the provider's definition. */
const resolveProviderCredential = (options: Parameters<typeof resolveWith>[0]) => {
  const envVars = providerDefinition(options.providerId).credentialEnv;
  return resolveWith({ ...(envVars ? { envVars: [...envVars] } : {}), ...options });
};

import type { OpenClawConfig } from "../src/config/schema.js";
import { test } from "./helpers/test.js";

const store: CredentialStoreData = {
  version: 1,
  profiles: {
    "chutes:manual": { type: "api_key", provider: "chutes", key: "cpk_profile_key_0001" },
    "chutes:oauth": { type: "oauth", provider: "chutes", access: "cak_oauth_access_0002", refresh: "crt_x", expires: 1 },
    "huggingface:manual": { type: "api_key", provider: "huggingface", key: "hf_profile_token_0003" },
  },
};

test("an explicit apiKey in config wins over profiles and the environment", () => {
  const config: OpenClawConfig = { models: { providers: { chutes: { apiKey: "cpk_config_key_9999" } } } };
  const resolved = resolveProviderCredential({ providerId: "chutes", config, store, env: { CHUTES_API_KEY: "cpk_env" } });
  assert.equal(resolved?.secret, "cpk_config_key_9999");
  assert.equal(resolved?.source, "config");
  assert.equal(resolved?.origin, "models.providers.chutes.apiKey");
  assert.equal(resolved?.redacted, "cpk_…9999");
});

test("profiles come next, in auth.order when given", () => {
  const plain = resolveProviderCredential({ providerId: "chutes", config: {}, store, env: { CHUTES_API_KEY: "cpk_env" } });
  assert.equal(plain?.source, "profile");
  assert.equal(plain?.profileId, "chutes:manual");
  const ordered = resolveProviderCredential({
    providerId: "chutes",
    config: { auth: { order: { chutes: ["chutes:oauth"] } } },
    store,
    env: {},
  });
  assert.equal(ordered?.profileId, "chutes:oauth");
  assert.equal(ordered?.mode, "oauth");
  assert.equal(ordered?.secret, "cak_oauth_access_0002");
});

test("a profile that needs sign-in again is skipped", () => {
  const stale: CredentialStoreData = {
    version: 1,
    profiles: { "chutes:oauth": { type: "oauth", provider: "chutes", access: "cak_dead", needsReauth: true } },
  };
  const resolved = resolveProviderCredential({
    providerId: "chutes",
    config: {},
    store: stale,
    env: { CHUTES_OAUTH_TOKEN: "cak_env_token" },
  });
  assert.equal(resolved?.source, "env");
  assert.equal(resolved?.origin, "CHUTES_OAUTH_TOKEN");
  assert.equal(resolved?.mode, "oauth");
});

test("the environment is last: CHUTES_API_KEY, HF_TOKEN then HUGGINGFACE_HUB_TOKEN, <PROVIDER>_API_KEY", () => {
  const empty: CredentialStoreData = { version: 1, profiles: {} };
  const chutes = resolveProviderCredential({ providerId: "chutes", config: {}, store: empty, env: { CHUTES_API_KEY: "cpk_env_1234" } });
  assert.deepEqual([chutes?.source, chutes?.origin], ["env", "CHUTES_API_KEY"]);
  const hub = resolveProviderCredential({ providerId: "huggingface", config: {}, store: empty, env: { HUGGINGFACE_HUB_TOKEN: "hf_hub" } });
  assert.equal(hub?.origin, "HUGGINGFACE_HUB_TOKEN");
  const both = resolveProviderCredential({
    providerId: "huggingface",
    config: {},
    store: empty,
    env: { HUGGINGFACE_HUB_TOKEN: "a", HF_TOKEN: "b" },
  });
  assert.equal(both?.origin, "HF_TOKEN");
  assert.deepEqual(providerEnvVars("open-router"), ["OPEN_ROUTER_API_KEY"]);
  const other = resolveProviderCredential({ providerId: "openrouter", config: {}, store: empty, env: { OPENROUTER_API_KEY: "sk-or" } });
  assert.equal(other?.origin, "OPENROUTER_API_KEY");
});

test("no credential anywhere resolves to undefined", () => {
  assert.equal(resolveProviderCredential({ providerId: "chutes", config: {}, store: { version: 1, profiles: {} }, env: {} }), undefined);
});

test("another provider's profile is never used", () => {
  const resolved = resolveProviderCredential({
    providerId: "huggingface",
    config: { auth: { order: { huggingface: ["chutes:manual"] } } },
    store,
    env: {},
  });
  assert.equal(resolved?.profileId, "huggingface:manual");
});
