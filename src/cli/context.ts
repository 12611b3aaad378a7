import { openCredentialStore } from "../auth/credential-store.js";
import { loadConfig } from "../config/load.js";
import { ModelRuntime } from "../models/model-runtime.js";

export function warn(message: string): void {
  process.stderr.write(`openclaw: warning: ${message}\n`);
}

/** What most commands start from: the loaded config, the credential store, a model runtime. */
export async function loadCliContext() {
  const { config, paths } = await loadConfig();
  const store = await openCredentialStore(paths, config);
  const runtime = new ModelRuntime({ config, paths, store: await store.read(), credentialStore: store, warn });
  return { config, paths, store, runtime };
}
