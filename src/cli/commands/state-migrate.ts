import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { FileCredentialStore } from "../../auth/credential-store.js";
import { loadConfig } from "../../config/load.js";
import { ConfigError, InvalidRequestError } from "../../shared/errors.js";
import type { KeyRecord } from "../../store/key-store.js";
import { LocalKeyStore } from "../../store/key-store-file.js";
import { CredentialCipher, credentialsKeyOf } from "../../store/postgres/credential-cipher.js";
import { connectPostgres, redactPostgresUrl, releasePostgres } from "../../store/postgres/index.js";
import { PgCredentialStore } from "../../store/postgres/pg-credential-store.js";
import { KEYS_CHANNEL } from "../../store/postgres/pg-key-store.js";
import { inTransaction, postgresUrlOf } from "../../store/postgres/pg-pool.js";
import { insertRequests, insertTurns, requestRow, turnRow } from "../../store/postgres/pg-record-writer.js";
import { printJson } from "../output.js";
import { readSqliteState } from "./state-sqlite-source.js";

const BATCH = 500;
type Counts = { turns: number; responses: number; requests: number; keys: number; credentials: number };

/** Stable ids for rows that have none of their own, so a second run finds them already there. */
const uidOf = (kind: string, ...parts: Array<string | number>) =>
  `sqlite-${kind}-${createHash("sha256").update(parts.join("\0")).digest("base64url").slice(0, 32)}`;

/**
 * `openclaw state migrate --to <postgres-url>`: this machine's SQLite state (sessions and turns,
 * stored responses, the usage ledger and key spend), keys and credentials into PostgreSQL.
 * Idempotent: what is already there is skipped (turns and ledger rows by a stable id, the rest by
 * their own), so running it twice changes nothing. Credentials need the credentials key; without
 * one, nothing is written.
 */
export async function runStateMigrate(options: { to?: string; json?: boolean }): Promise<void> {
  const { config, paths } = await loadConfig();
  const url = options.to ?? postgresUrlOf(config);
  if (!url) throw new InvalidRequestError("name the database: openclaw state migrate --to postgres://user@host/db", { param: "to" });
  if (!/^postgres(ql)?:\/\//.test(url))
    throw new InvalidRequestError(`--to must be a postgres:// URL, not ${JSON.stringify(redactPostgresUrl(url))}`, { param: "to" });
  const file = path.join(paths.stateDir, "openclaw.db");
  const source = existsSync(file) ? readSqliteState(file) : { turns: [], responses: [], requests: [], keySpend: [] };
  const keys = await LocalKeyStore.inStateDir(paths.stateDir).list();
  const credentials = await FileCredentialStore.fromPaths(paths).read();
  const credentialCount = Object.keys(credentials.profiles).length + Object.keys(credentials.secrets ?? {}).length;
  const key = credentialsKeyOf(config);
  if (credentialCount > 0 && !key)
    throw new ConfigError(
      `${credentialCount} credential(s) to move need a key to encrypt them: set OPENCLAW_STATE_KEY (or gateway.state.credentialsKey) to 32 bytes in base64 (openssl rand -base64 32), the same on every machine`,
    );

  const { pool } = await connectPostgres(url);
  try {
    const moved: Counts = { turns: 0, responses: 0, requests: 0, keys: 0, credentials: 0 };
    await inTransaction(pool, async (client) => {
      for (let at = 0; at < source.turns.length; at += BATCH) {
        const rows = source.turns.slice(at, at + BATCH).map(({ id, turn }) => turnRow(turn, uidOf("turn", id, turn.sessionKey, turn.at)));
        moved.turns += await insertTurns(client, rows);
      }
      for (const stored of source.responses) {
        const { rowCount } = await client.query(
          `INSERT INTO responses (id, agent_id, created_at, response, history, output) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (id) DO NOTHING`,
          [stored.id, stored.agent_id, stored.created_at, stored.response, stored.history, stored.output],
        );
        moved.responses += rowCount ?? 0;
      }
      for (let at = 0; at < source.requests.length; at += BATCH) {
        const rows = source.requests
          .slice(at, at + BATCH)
          .map(({ id, request }) => requestRow(request, uidOf("request", id, request.requestId, request.at)));
        moved.requests += await insertRequests(client, rows);
      }
      // Lifetime spend outlives retention: keep the larger of the two counts, never their sum (a rerun adds nothing).
      for (const spend of source.keySpend)
        await client.query(
          `INSERT INTO key_spend (key_id, cost, requests) VALUES ($1, $2, $3) ON CONFLICT (key_id) DO UPDATE
           SET cost = greatest(key_spend.cost, excluded.cost), requests = greatest(key_spend.requests, excluded.requests)`,
          [spend.key_id, spend.cost, spend.requests],
        );
      for (const record of keys) moved.keys += await insertKey(client, record);
      if (moved.keys > 0) await client.query("SELECT pg_notify($1, $2)", [KEYS_CHANNEL, "migrate"]);
    });
    if (credentialCount > 0 && key) {
      const store = new PgCredentialStore(pool, new CredentialCipher(key), redactPostgresUrl(url));
      // A credential already in PostgreSQL is newer than this machine's copy (a rotated OAuth pair): it stays.
      moved.credentials = await store.update((data) => {
        let added = 0;
        for (const [id, credential] of Object.entries(credentials.profiles))
          if (!(id in data.profiles)) {
            data.profiles[id] = credential;
            added++;
          }
        for (const [id, secret] of Object.entries(credentials.secrets ?? {}))
          if (!data.secrets?.[id]) {
            data.secrets = { ...data.secrets, [id]: secret };
            added++;
          }
        return added;
      });
    }
    const total: Counts = {
      turns: source.turns.length,
      responses: source.responses.length,
      requests: source.requests.length,
      keys: keys.length,
      credentials: credentialCount,
    };
    const skipped = Object.fromEntries(Object.entries(total).map(([name, count]) => [name, count - moved[name as keyof Counts]]));
    const to = redactPostgresUrl(url);
    if (options.json) return printJson({ from: paths.stateDir, to, moved, skipped });
    const already = Object.values(skipped).reduce((sum, count) => sum + count, 0);
    process.stdout.write(
      `Moved to ${to}: ${moved.turns} turns, ${moved.responses} responses, ${moved.requests} usage rows, ${moved.keys} keys, ${moved.credentials} credentials${already ? ` (${already} already there, skipped)` : ""}\n`,
    );
  } finally {
    await releasePostgres(url);
  }
}

async function insertKey(client: import("pg").PoolClient, record: KeyRecord): Promise<number> {
  const { rowCount } = await client.query(
    "INSERT INTO api_keys (id, name, created_at, record) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
    [record.id, record.name, record.createdAt, JSON.stringify(record)],
  );
  return rowCount ?? 0;
}
