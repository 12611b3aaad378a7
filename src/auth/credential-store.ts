import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { ensurePrivateDir, type StatePaths } from "../config/paths.js";
import { withFileLock, writeFileAtomic } from "../shared/atomic-file.js";
import { ConfigError, errorCode } from "../shared/errors.js";

/**
 * The credential store: the only place secrets live. One JSON file, 0600, in a 0700
 * directory, replaced atomically under a lock. `openclaw.json` only names the profiles.
 */
/**
 * When the user stored this credential (epoch ms): without an explicit `auth.order`, the newest
 * credential for a provider is the one used. A refresh keeps it (it is the same sign-in).
 */
const storedAt = z.number().optional();
const ApiKeyCredential = z.object({ type: z.literal("api_key"), provider: z.string(), key: z.string().min(1), storedAt });
const TokenCredential = z.object({
  type: z.literal("token"),
  provider: z.string(),
  token: z.string().min(1),
  expires: z.number().optional(),
  storedAt,
});
const OAuthCredential = z.object({
  type: z.literal("oauth"),
  provider: z.string(),
  storedAt,
  access: z.string().min(1),
  refresh: z.string().optional(),
  /** Epoch milliseconds. */
  expires: z.number().optional(),
  /** How long the access token was issued for (ms): short-lived tokens are refreshed at half-life. */
  lifetimeMs: z.number().optional(),
  clientId: z.string().optional(),
  /** The confidential client's secret used at sign-in (CHUTES_CLIENT_SECRET): refreshes need it too. */
  clientSecret: z.string().optional(),
  account: z.object({ id: z.string().optional(), username: z.string().optional(), email: z.string().optional() }).optional(),
  /** Set when a refresh was refused: the user has to sign in again. */
  needsReauth: z.boolean().optional(),
});

export const CredentialSchema = z.discriminatedUnion("type", [ApiKeyCredential, TokenCredential, OAuthCredential]);
const StoreSchema = z.object({
  version: z.literal(1),
  profiles: z.record(z.string(), CredentialSchema),
  /** Generated secrets that are not provider credentials (e.g. the gateway token). */
  secrets: z.record(z.string(), z.string()).optional(),
});

export type Credential = z.infer<typeof CredentialSchema>;
export type CredentialStoreData = z.infer<typeof StoreSchema>;

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

export class CredentialStore {
  constructor(readonly file: string) {}

  static fromPaths(paths: StatePaths): CredentialStore {
    return new CredentialStore(paths.authProfilesPath);
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
    const result = StoreSchema.safeParse(parsed);
    if (!result.success) {
      throw new ConfigError(`the credential store ${this.file} is malformed at ${result.error.issues[0]?.path.join(".") || "(root)"}`);
    }
    return result.data;
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
