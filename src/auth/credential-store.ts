import { readFile } from "node:fs/promises";
import path from "node:path";
import { ensurePrivateDir, type StatePaths } from "../config/paths.js";
import type { OpenClawConfig } from "../config/schema.js";
import { ValidationMemo } from "../config/validation-memo.js";
import { withFileLock, writeFileAtomic } from "../shared/atomic-file.js";
import { ConfigError, errorCode } from "../shared/errors.js";
import type { CredentialBackend } from "./credential-backend.js";
import type { Credential, CredentialStoreData } from "./credential-schema.js";

export type { CredentialBackend } from "./credential-backend.js";
export type { Credential, CredentialStoreData } from "./credential-schema.js";

export function credentialSecret(credential: Credential): string {
  switch (credential.type) {
    case "api_key":
      return credential.key;
    case "token":
      return credential.token;
    case "oauth":
      return credential.access;
  }
}

/** The schema is loaded only for a file that has to be validated (see ValidationMemo). */
async function parseStore(parsed: unknown, file: string): Promise<CredentialStoreData> {
  const { StoreSchema } = await import("./credential-schema.js");
  const result = StoreSchema.safeParse(parsed);
  if (!result.success) {
    throw new ConfigError(`the credential store ${file} is malformed at ${result.error.issues[0]?.path.join(".") || "(root)"}`);
  }
  return result.data;
}

/**
 * The credential store: the only place secrets live. One JSON file, 0600, in a 0700
 * directory, replaced atomically under a lock. `openclaw.json` only names the profiles.
 */
export class FileCredentialStore implements CredentialBackend {
  constructor(
    readonly file: string,
    private readonly memo?: ValidationMemo,
  ) {}

  static fromPaths(paths: StatePaths): FileCredentialStore {
    return new FileCredentialStore(paths.authProfilesPath, ValidationMemo.forState(paths.stateDir));
  }

  get location(): string {
    return this.file;
  }

  async read(): Promise<CredentialStoreData> {
    let text: string;
    try {
      text = await readFile(this.file, "utf8");
    } catch (error) {
      if (errorCode(error) === "ENOENT") return { version: 1, profiles: {} };
      throw new ConfigError(`cannot read the credential store ${this.file}: ${(error as Error).message}`, { cause: error });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new ConfigError(`the credential store ${this.file} is not valid JSON; restore it or remove it and sign in again`, {
        cause: error,
      });
    }
    const validate = () => parseStore(parsed, this.file);
    return this.memo ? this.memo.validate("credentials", parsed, validate) : validate();
  }

  async getProfile(profileId: string): Promise<Credential | undefined> {
    return (await this.read()).profiles[profileId];
  }

  async listProfiles(): Promise<Array<[string, Credential]>> {
    return Object.entries((await this.read()).profiles);
  }

  /** Read-modify-write under the store's lock, so concurrent writers never lose an update. */
  async update<T>(mutate: (data: CredentialStoreData) => T | Promise<T>): Promise<T> {
    ensurePrivateDir(path.dirname(this.file));
    return withFileLock(this.file, async () => {
      const data = await this.read();
      const result = await mutate(data);
      await writeFileAtomic(this.file, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
      return result;
    });
  }

  /** Store a credential the user just gave us; it becomes the newest for its provider. */
  async setProfile(profileId: string, credential: Credential, now: () => number = Date.now): Promise<void> {
    await this.update((data) => {
      data.profiles[profileId] = { ...credential, storedAt: now() };
    });
  }

  async removeProfile(profileId: string): Promise<boolean> {
    return this.update((data) => {
      const existed = profileId in data.profiles;
      delete data.profiles[profileId];
      return existed;
    });
  }
}

/** Any credential store (type); `CredentialStore.fromPaths` (value) is this machine's file. */
export type CredentialStore = CredentialBackend;
export const CredentialStore = FileCredentialStore;

/**
 * The credential store this process should use: PostgreSQL (encrypted, shared by every replica
 * and CLI) when `gateway.state.postgres` and a credentials key are both configured, else the file.
 * `pg` is loaded only in the first case.
 */
export async function openCredentialStore(paths: StatePaths, config: OpenClawConfig): Promise<CredentialBackend> {
  const { postgresUrlOf } = await import("../store/postgres/pg-pool.js");
  const url = postgresUrlOf(config);
  if (url) {
    const { credentialsKeyOf } = await import("../store/postgres/credential-cipher.js");
    const key = credentialsKeyOf(config);
    if (key) return (await import("../store/postgres/index.js")).openPgCredentialStore(url, key);
  }
  return FileCredentialStore.fromPaths(paths);
}

/** `openCredentialStore` for commands that have not loaded the config (`paste-token`, `models auth …`, onboarding). */
export async function credentialStoreAt(paths: StatePaths): Promise<CredentialBackend> {
  const { loadConfig } = await import("../config/load.js");
  return openCredentialStore(paths, (await loadConfig({ paths })).config);
}
