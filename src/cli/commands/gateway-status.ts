import type { RedisCheck } from "../../backends/redis/ping.js";
import { loadConfig } from "../../config/load.js";
import { resolveStatePaths } from "../../config/paths.js";
import { type GatewayRecord, gatewayRecordPath, readGatewayRecord } from "../../gateway/runtime-record.js";
import { errorCode } from "../../shared/errors.js";
import { printJson } from "../output.js";

const HEALTH_TIMEOUT_MS = 3_000;

function formatUptime(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return errorCode(error) === "EPERM";
  }
}

async function health(url: string): Promise<{ ok: boolean; detail: string; ms: number }> {
  const started = performance.now();
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    const ms = Math.round(performance.now() - started);
    await response.body?.cancel();
    return { ok: response.status === 200, detail: `HTTP ${response.status}`, ms };
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    const reason =
      (error as Error).name === "TimeoutError"
        ? `no answer within ${HEALTH_TIMEOUT_MS} ms`
        : (errorCode(cause) ?? (error as Error).message);
    return { ok: false, detail: reason, ms: Math.round(performance.now() - started) };
  }
}

type Status =
  | { running: false; reason: string; record?: GatewayRecord }
  | { running: true; healthy: boolean; record: GatewayRecord; health: { ok: boolean; detail: string; ms: number } };

/** The shared-state backends the config names, checked (ioredis is loaded only when Redis is configured). */
async function checkBackends(): Promise<{ redis?: RedisCheck }> {
  // An unreadable config is `config validate`'s to report: here it only hides the backends it would name.
  const config = await loadConfig().then(
    (loaded) => loaded.config,
    () => undefined,
  );
  const url = config?.gateway?.state?.redis ?? (process.env.OPENCLAW_REDIS_URL || undefined);
  if (!url) return {};
  const { pingRedis } = await import("../../backends/redis/ping.js");
  return { redis: await pingRedis(url) };
}

/** `openclaw gateway status`: is a gateway running for this state dir, where, which version, does it answer; do its backends. */
export async function runGatewayStatus(options: { json?: boolean }): Promise<void> {
  const paths = resolveStatePaths();
  const backends = await checkBackends();
  const record = await readGatewayRecord(paths);
  let status: Status;
  if (!record) status = { running: false, reason: `no gateway has recorded itself in ${gatewayRecordPath(paths)}` };
  else if (!processAlive(record.pid))
    status = {
      running: false,
      reason: `the gateway recorded as pid ${record.pid} is not running (it stopped without cleaning up)`,
      record,
    };
  else {
    const checked = await health(record.url);
    status = { running: true, healthy: checked.ok, record, health: checked };
  }
  const postgres = await postgresStatus();
  process.exitCode = status.running && status.healthy && backends.redis?.ok !== false && (postgres?.ok ?? true) ? 0 : 1;
  if (options.json) {
    printJson({
      stateDir: paths.stateDir,
      ...status,
      ...(backends.redis ? { backends } : {}),
      ...(postgres ? { postgres } : {}),
    });
    return;
  }
  const backendLines = [
    ...(backends.redis
      ? [
          `  redis:    ${backends.redis.ok ? `ok (${backends.redis.ms} ms)` : `not answering: ${backends.redis.detail}`} at ${backends.redis.url}`,
        ]
      : []),
    ...(postgres
      ? [`  postgres: ${postgres.ok ? `ok (${postgres.ms} ms, ${postgres.detail})` : `not answering: ${postgres.detail}`} ${postgres.url}`]
      : []),
  ];
  if (!status.running) {
    process.stdout.write(
      `Gateway: not running (${status.reason})\nStart it with: openclaw gateway\n${backendLines.map((line) => `${line}\n`).join("")}`,
    );
    return;
  }
  const { record: r, health: h } = status;
  const uptime = formatUptime(Date.now() - Date.parse(r.startedAt));
  process.stdout.write(
    [
      `Gateway: running (pid ${r.pid}, version ${r.version}, up ${uptime})`,
      `  address: ${r.url}${r.host !== new URL(r.url).hostname.replace(/^\[|\]$/g, "") ? ` (listening on ${r.host})` : ""}`,
      `  health:  ${h.ok ? `ok (${h.ms} ms)` : `not answering: ${h.detail}`}`,
      ...backendLines,
      "",
    ].join("\n"),
  );
}

/**
 * With `gateway.state.postgres` (or OPENCLAW_DATABASE_URL) set: does PostgreSQL answer (a fresh
 * connection and one query). Undefined when it is not configured; `pg` is loaded only when it is.
 */
async function postgresStatus(): Promise<{ ok: boolean; detail: string; ms: number; url: string } | undefined> {
  const { loadConfig } = await import("../../config/load.js");
  const { postgresUrlOf } = await import("../../store/postgres/pg-pool.js");
  let url: string | undefined;
  try {
    url = postgresUrlOf((await loadConfig()).config);
  } catch {
    url = process.env.OPENCLAW_DATABASE_URL || undefined;
  }
  if (!url) return undefined;
  const { checkPostgres, redactPostgresUrl } = await import("../../store/postgres/index.js");
  return { ...(await checkPostgres(url)), url: redactPostgresUrl(url) };
}
