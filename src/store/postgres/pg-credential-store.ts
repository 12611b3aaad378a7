import { randomUUID } from "node:crypto";
import type { Pool, PoolClient } from "pg";
import type { CredentialBackend } from "../../auth/credential-backend.js";
import type { Credential, CredentialStoreData } from "../../auth/credential-schema.js";
import type { CredentialCipher } from "./credential-cipher.js";
import type { PgListener } from "./pg-listener.js";
import { inTransaction } from "./pg-pool.js";

export const CREDENTIALS_CHANNEL = "openclaw_credentials";
const CREDENTIALS_LOCK = 0x6f63_6372; // "occr"

type Kind = "profile" | "secret";
interface SealedRow {
  kind: Kind;
  id: string;
  nonce: Buffer;
  sealed: Buffer;
}

/**
 * The credential store in PostgreSQL, shared by every replica and CLI: one row per profile (and
 * per generated secret), each sealed with AES-256-GCM under its own nonce: the database holds no
 * secret in plaintext. Reads go to the database every time (the latest committed pair, which the
 * OAuth refresh relies on); `update` is a read-modify-write in one transaction under an advisory
 * lock, writes only the rows that changed, and NOTIFYs every process.
 */
export class PgCredentialStore implements CredentialBackend {
  /** Our own NOTIFYs carry this: a process does not reload on its own writes (as the file watch skips them too). */
  private readonly origin = randomUUID();

  constructor(
    private readonly pool: Pool,
    private readonly cipher: CredentialCipher,
    readonly location: string,
    private readonly listener?: PgListener,
  ) {}

  private decode(rows: SealedRow[]): CredentialStoreData {
    const data: CredentialStoreData = { version: 1, profiles: {} };
    for (const row of rows) {
      const plain = this.cipher.open(row.nonce, row.sealed, `${row.kind}:${row.id}`);
      if (row.kind === "profile") data.profiles[row.id] = JSON.parse(plain) as Credential;
      else {
        data.secrets ??= {};
        data.secrets[row.id] = plain;
      }
    }
    return data;
  }

  private async readWith(client: Pool | PoolClient): Promise<CredentialStoreData> {
    const { rows } = await client.query<SealedRow>("SELECT kind, id, nonce, sealed FROM credentials ORDER BY kind, id");
    return this.decode(rows);
  }

  read(): Promise<CredentialStoreData> {
    return this.readWith(this.pool);
  }

  async getProfile(profileId: string): Promise<Credential | undefined> {
    return (await this.read()).profiles[profileId];
  }

  async listProfiles(): Promise<Array<[string, Credential]>> {
    return Object.entries((await this.read()).profiles);
  }

  update<T>(mutate: (data: CredentialStoreData) => T | Promise<T>): Promise<T> {
    return inTransaction(this.pool, async (client) => {
      await client.query("SELECT pg_advisory_xact_lock($1)", [CREDENTIALS_LOCK]);
      const data = await this.readWith(client);
      const before = entries(data);
      const result = await mutate(data);
      const after = entries(data);
      let changed = false;
      for (const [identity, plain] of after) {
        if (before.get(identity) === plain) continue;
        const [kind, id] = splitIdentity(identity);
        const { nonce, sealed } = this.cipher.seal(plain, identity);
        await client.query(
          `INSERT INTO credentials (kind, id, nonce, sealed, updated_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (kind, id) DO UPDATE SET nonce = excluded.nonce, sealed = excluded.sealed, updated_at = excluded.updated_at`,
          [kind, id, nonce, sealed, Date.now()],
        );
        changed = true;
      }
      for (const identity of before.keys()) {
        if (after.has(identity)) continue;
        const [kind, id] = splitIdentity(identity);
        await client.query("DELETE FROM credentials WHERE kind = $1 AND id = $2", [kind, id]);
        changed = true;
      }
      if (changed) await client.query("SELECT pg_notify($1, $2)", [CREDENTIALS_CHANNEL, this.origin]);
      return result;
    });
  }

  async setProfile(profileId: string, credential: Credential, now: () => number = Date.now): Promise<void> {
    await this.update((data) => {
      data.profiles[profileId] = { ...credential, storedAt: now() };
    });
  }

  removeProfile(profileId: string): Promise<boolean> {
    return this.update((data) => {
      const existed = profileId in data.profiles;
      delete data.profiles[profileId];
      return existed;
    });
  }

  /** Another process's change (a `paste-token` on any machine, a refresh on another replica), debounced. */
  watch(onChange: () => void, delayMs = 50): () => void {
    let timer: NodeJS.Timeout | undefined;
    const stop = this.listener?.listen(CREDENTIALS_CHANNEL, (origin) => {
      if (origin === this.origin) return;
      clearTimeout(timer);
      timer = setTimeout(onChange, delayMs);
    });
    return () => {
      clearTimeout(timer);
      stop?.();
    };
  }
}

/** Each row's plaintext by `kind:id`, to write only what changed. */
function entries(data: CredentialStoreData): Map<string, string> {
  const map = new Map<string, string>();
  for (const [id, credential] of Object.entries(data.profiles)) map.set(`profile:${id}`, JSON.stringify(credential));
  for (const [id, secret] of Object.entries(data.secrets ?? {})) map.set(`secret:${id}`, secret);
  return map;
}

function splitIdentity(identity: string): [Kind, string] {
  const at = identity.indexOf(":");
  return [identity.slice(0, at) as Kind, identity.slice(at + 1)];
}
