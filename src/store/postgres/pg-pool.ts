import type { Pool, PoolClient } from "pg";
import type { OpenClawConfig } from "../../config/schema.js";
import { OpenClawError } from "../../shared/errors.js";

type PgModule = typeof import("pg");
let loaded: Promise<PgModule> | undefined;

/** `pg` is loaded only when PostgreSQL is configured: a single-machine gateway never pays for it. */
export function loadPg(): Promise<PgModule> {
  loaded ??= import("pg").then((module) => {
    const pg = ((module as unknown as { default?: PgModule }).default ?? module) as PgModule;
    // BIGINT (epoch ms, counts) as numbers: every value we store fits in 2^53.
    pg.types.setTypeParser(20, (text) => Number(text));
    return pg;
  });
  return loaded;
}

/** The configured URL (`gateway.state.postgres`, after `${VAR}` substitution), else OPENCLAW_DATABASE_URL. */
export function postgresUrlOf(config: OpenClawConfig, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return config.gateway?.state?.postgres ?? (env.OPENCLAW_DATABASE_URL || undefined);
}

/** For banners and errors: the password (and a user name standing alone for one) never shown. */
export function redactPostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    for (const name of [...parsed.searchParams.keys()]) if (/pass|secret|key/i.test(name)) parsed.searchParams.set(name, "***");
    return parsed.toString();
  } catch {
    return "(an unparsable PostgreSQL URL)";
  }
}

export class StateUnavailableError extends OpenClawError {
  constructor(cause: unknown) {
    super("the shared state database (PostgreSQL) is unreachable; retry shortly", {
      status: 503,
      type: "server_error",
      code: "state_unavailable",
      cause,
    });
  }
}

/**
 * An error from the connection rather than the statement: no SQLSTATE at all (refused, reset,
 * timed out), class 08 (connection exception), 57P (shut down), 53 (out of resources).
 */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string" || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return code.startsWith("08") || code.startsWith("57P") || code.startsWith("53");
}

/** Rethrow a connection failure as a 503 (the caller's request may be retried), anything else as it is. */
export function asStateError(error: unknown): Error {
  return isConnectionError(error) ? new StateUnavailableError(error) : (error as Error);
}

export interface PoolOptions {
  /** Most connections per process (default 5: records go in batches, reads are rare). */
  max?: number;
  connectTimeoutMs?: number;
  onError?: (error: Error) => void;
}

/**
 * A pool that reconnects by itself (a new client per checkout once the server is back), fails a
 * checkout fast while the server is down, and lets a CLI process exit once its clients are idle.
 */
export async function openPool(url: string, options: PoolOptions = {}): Promise<Pool> {
  const pg = await loadPg();
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 5,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 3_000,
    idleTimeoutMillis: 10_000,
    allowExitOnIdle: true,
    keepAlive: true,
    application_name: "openclaw",
  });
  // An idle client cut by a restarting server emits here; unhandled it would end the process.
  pool.on("error", (error) => options.onError?.(error));
  return pool;
}

/**
 * A client out of the pool. The server ending its connection between two of our queries (a
 * restart, an admin shutdown) emits 'error' on the client, which would end the process if nobody
 * listened; the next query fails instead, and the caller handles that.
 */
export async function checkout(pool: Pool): Promise<PoolClient & { done(error?: Error): void }> {
  const client = await pool.connect();
  const ignore = () => undefined;
  client.on("error", ignore);
  return Object.assign(client, {
    done(error?: Error) {
      client.off("error", ignore);
      client.release(error);
    },
  });
}

/** Run `body` in a transaction on one client; rolled back when it throws. */
export async function inTransaction<T>(pool: Pool, body: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await checkout(pool);
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    const result = await body(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    // A client whose connection failed is discarded, not handed to the next caller.
    if (isConnectionError(error)) broken = error as Error;
    else await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.done(broken);
  }
}
