import type { Pool } from "pg";
import type { OpenClawConfig } from "../../config/schema.js";
import { ConfigError } from "../../shared/errors.js";
import { CredentialCipher, credentialsKeyOf } from "./credential-cipher.js";
import { PgCredentialStore } from "./pg-credential-store.js";
import { PgKeyStore } from "./pg-key-store.js";
import { PgListener } from "./pg-listener.js";
import { openPool, redactPostgresUrl } from "./pg-pool.js";
import { type MigrationResult, migrate } from "./pg-schema.js";
import { PgStateStore, type StateLog } from "./pg-state-store.js";

export { postgresUrlOf, redactPostgresUrl } from "./pg-pool.js";
export { PgStateStore } from "./pg-state-store.js";

/** One pool per URL per process, migrated once (a CLI command may open the state, keys and credentials). */
const pools = new Map<string, Promise<{ pool: Pool; migration: MigrationResult }>>();

/** A migrated pool; a database that cannot be reached is one clear error (the URL redacted). */
export function connectPostgres(url: string, onError?: (error: Error) => void): Promise<{ pool: Pool; migration: MigrationResult }> {
  let opened = pools.get(url);
  if (!opened) {
    opened = (async () => {
      const pool = await openPool(url, onError ? { onError } : {});
      try {
        return { pool, migration: await migrate(pool) };
      } catch (error) {
        await pool.end().catch(() => undefined);
        throw new ConfigError(`cannot use PostgreSQL at ${redactPostgresUrl(url)}: ${(error as Error).message}`, { cause: error });
      }
    })();
    pools.set(url, opened);
    opened.catch(() => pools.delete(url));
  }
  return opened;
}

/** End this process's pool for `url` (a CLI command, once done). */
export async function releasePostgres(url: string): Promise<void> {
  const opened = pools.get(url);
  pools.delete(url);
  if (opened) await (await opened).pool.end().catch(() => undefined);
}

export interface PostgresBackends {
  url: string;
  state: PgStateStore;
  keys: PgKeyStore;
  /** Absent without a credentials key: credentials then stay in this machine's file. */
  credentials: PgCredentialStore | undefined;
  migration: MigrationResult;
  /** One line for the start banner: where, and what is shared. */
  describe(): string;
  close(): Promise<void>;
}

export interface OpenBackendsOptions {
  config: OpenClawConfig;
  log?: StateLog;
  /** LISTEN for changes (a gateway); a CLI command only reads and writes. */
  listen?: boolean;
}

/** The gateway's (or a CLI's) PostgreSQL backends: the state store, keys and, with a key, credentials. */
export async function openPostgresBackends(url: string, options: OpenBackendsOptions): Promise<PostgresBackends> {
  const { config, log } = options;
  const key = credentialsKeyOf(config);
  const { pool, migration } = await connectPostgres(url, (error) =>
    log?.warn({ err: error.message }, "a PostgreSQL connection was lost; the pool reconnects"),
  );
  const listener = options.listen ? new PgListener(url) : undefined;
  const redacted = redactPostgresUrl(url);
  const closeAll = async () => {
    await listener?.close();
    await releasePostgres(url);
  };
  const state = new PgStateStore(pool, {
    ...(config.gateway?.state?.maxQueuedRecords ? { maxQueued: config.gateway.state.maxQueuedRecords } : {}),
    ...(log ? { log } : {}),
    release: closeAll,
  });
  return {
    url,
    state,
    keys: new PgKeyStore(pool, listener),
    credentials: key ? new PgCredentialStore(pool, new CredentialCipher(key), redacted, listener) : undefined,
    migration,
    describe: () =>
      `PostgreSQL ${redacted} (sessions, responses, usage, keys${key ? ", credentials (encrypted)" : "; credentials stay in this machine's file: set OPENCLAW_STATE_KEY to share them"})`,
    close: () => state.close(),
  };
}

/** For the CLI's credential commands (`paste-token`, onboarding, sign-in): the shared, encrypted store. */
export async function openPgCredentialStore(url: string, key: Buffer): Promise<PgCredentialStore> {
  const { pool } = await connectPostgres(url);
  return new PgCredentialStore(pool, new CredentialCipher(key), redactPostgresUrl(url));
}

/** For `openclaw gateway status`: does it answer, and how fast. */
export async function checkPostgres(url: string, timeoutMs = 3_000): Promise<{ ok: boolean; detail: string; ms: number }> {
  const started = performance.now();
  const { loadPg } = await import("./pg-pool.js");
  const pg = await loadPg();
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  try {
    await client.connect();
    const { rows } = await client
      .query<{ version: number | null }>("SELECT (SELECT max(version) FROM openclaw_schema) AS version")
      .catch(() => ({ rows: [{ version: null }] }));
    return { ok: true, detail: `schema v${rows[0]?.version ?? 0}`, ms: Math.round(performance.now() - started) };
  } catch (error) {
    return {
      ok: false,
      detail: (error as { code?: string }).code ?? (error as Error).message,
      ms: Math.round(performance.now() - started),
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}
