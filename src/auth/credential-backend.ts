import type { Credential, CredentialStoreData } from "./credential-schema.js";

/**
 * What every credential store does: the file under the state dir (`FileCredentialStore`) or the
 * encrypted table shared by replicas (`PgCredentialStore`). A read returns the latest committed
 * state (the OAuth refresh re-reads the profile after taking its lock); `update` is a
 * read-modify-write that never loses a concurrent writer's change.
 */
export interface CredentialBackend {
  /** Where the credentials live, for messages (a file path or a redacted database URL). */
  readonly location: string;
  read(): Promise<CredentialStoreData>;
  getProfile(profileId: string): Promise<Credential | undefined>;
  listProfiles(): Promise<Array<[string, Credential]>>;
  update<T>(mutate: (data: CredentialStoreData) => T | Promise<T>): Promise<T>;
  setProfile(profileId: string, credential: Credential, now?: () => number): Promise<void>;
  removeProfile(profileId: string): Promise<boolean>;
  /** Call `onChange` when another process changes the credentials (shared stores only); returns a stop function. */
  watch?(onChange: () => void): () => void;
}
