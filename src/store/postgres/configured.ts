import type { OpenClawConfig } from "../../config/schema.js";
import type { PostgresBackends } from "./index.js";
import { postgresUrlOf } from "./pg-pool.js";
import type { StateLog } from "./pg-state-store.js";

/**
 * The gateway's PostgreSQL backends when `gateway.state.postgres` (or OPENCLAW_DATABASE_URL) is set,
 * else undefined; `pg` and the backends are loaded only in the first case.
 */
export async function openConfiguredPostgres(config: OpenClawConfig, log: StateLog): Promise<PostgresBackends | undefined> {
  const url = postgresUrlOf(config);
  if (!url) return undefined;
  const { openPostgresBackends } = await import("./index.js");
  return openPostgresBackends(url, { config, log, listen: true });
}
